/** Today's figures from the day's orders: how many, and what they bring in (cancelled ones do not). */

export interface DaySummary {
  count: number;
  revenue: { currency: string; amount: number }[];
  /** Every order of the day was read (else the count is a lower bound). */
  complete: boolean;
}

export function summarizeDay(
  rows: readonly { status: string; total: number; currency: string }[],
  complete = true,
): DaySummary {
  const byCurrency = new Map<string, number>();
  let count = 0;
  for (const row of rows) {
    if (row.status === "cancelled") continue;
    count += 1;
    byCurrency.set(row.currency, (byCurrency.get(row.currency) ?? 0) + row.total);
  }
  const revenue = [...byCurrency].map(([currency, amount]) => ({ currency, amount }));
  return { count, revenue, complete };
}
