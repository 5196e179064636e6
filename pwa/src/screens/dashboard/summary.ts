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

/** A level with nothing left to promise, as `GET /api/inventory/outs` lists it. */
export interface StockOut {
  sku: string;
  location: string;
  on_hand: number;
  reserved: number;
  safety_stock: number;
  available: number;
}

export const levelKey = (level: { sku: string; location: string }) => `${level.sku}@${level.location}`;

/**
 * The stock-outs as read, with the levels changed live since: a level whose `available` fell
 * to 0 joins the list (in SKU, then location order), one that has stock again leaves it.
 */
export function withLiveStockOuts(
  outs: readonly StockOut[],
  changed: Readonly<Record<string, StockOut>>,
): StockOut[] {
  const merged = new Map(outs.map((level) => [levelKey(level), level]));
  for (const [key, level] of Object.entries(changed)) {
    if (level.available <= 0) merged.set(key, level);
    else merged.delete(key);
  }
  return [...merged.values()].sort((a, b) =>
    a.sku === b.sku ? (a.location < b.location ? -1 : 1) : a.sku < b.sku ? -1 : 1,
  );
}

/** Held orders split by why: short of stock (a decision about stock), and the others. */
export function splitHolds<T extends { number: string }>(
  held: readonly T[],
  reasons: ReadonlyMap<string, string | null>,
): { shortOfStock: T[]; other: T[] } {
  const shortOfStock: T[] = [];
  const other: T[] = [];
  for (const row of held) (reasons.get(row.number) === "stock_problem" ? shortOfStock : other).push(row);
  return { shortOfStock, other };
}
