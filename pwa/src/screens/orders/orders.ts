/** Orders in the app: the filters' meaning and how live changes fold into a list already shown. */

export interface OrderRow {
  number: string;
  status: string;
  channel: string;
  created_at: string;
  customer_name: string | null;
  customer_email: string | null;
  total: number;
  currency: string;
  version: number;
}

/** Orders still to be worked on: what "Open" means in the status filter. */
export const OPEN_STATUSES = [
  "awaiting_capacity",
  "confirmed",
  "on_hold",
  "in_fulfillment",
  "ready_for_pickup",
  "partially_shipped",
] as const;

export const STATUS_FILTERS = [
  "open",
  "all",
  "awaiting_capacity",
  "confirmed",
  "on_hold",
  "in_fulfillment",
  "ready_for_pickup",
  "partially_shipped",
  "shipped",
  "completed",
  "cancelled",
] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

/** The `status` query parameter for a filter ("" for every status). */
export function statusQuery(filter: StatusFilter): string {
  if (filter === "all") return "";
  if (filter === "open") return OPEN_STATUSES.join(",");
  return filter;
}

export function matchesStatus(filter: StatusFilter, status: string): boolean {
  const wanted = statusQuery(filter);
  return wanted === "" || wanted.split(",").includes(status);
}

/**
 * Fold a fresh first page into the rows shown: fresh rows replace theirs and come first
 * (newest first), the rest keep their place; a row no longer matching the filter leaves.
 */
export function mergeHead<T extends { number: string; status: string }>(
  shown: readonly T[],
  head: readonly T[],
  filter: StatusFilter,
): T[] {
  const fresh = new Set(head.map((r) => r.number));
  return [...head, ...shown.filter((r) => !fresh.has(r.number) && matchesStatus(filter, r.status))];
}

/** Put one order as it now stands into the rows (or take it out if the filter excludes it). */
export function replaceRow<T extends { number: string; status: string }>(
  shown: readonly T[],
  row: T,
  filter: StatusFilter,
): T[] {
  if (!matchesStatus(filter, row.status)) return shown.filter((r) => r.number !== row.number);
  return shown.map((r) => (r.number === row.number ? row : r));
}

/** Start and end of today in the person's time zone, as the API's `from` / `to`. */
export function todayRange(now: Date = new Date()): { from: string; to: string } {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const end = new Date(start.getTime());
  end.setDate(end.getDate() + 1);
  return { from: start.toISOString(), to: end.toISOString() };
}

/** Roles that change orders and see how they were routed (the API enforces the same). */
export const MANAGERS: ReadonlySet<string> = new Set(["manager", "admin"]);

/** Statuses where goods may have left (an invoice on demand may be due); the server decides. */
const LEFT_STATUSES: ReadonlySet<string> = new Set(["in_fulfillment", "partially_shipped", "shipped", "completed"]);

/** Whether to offer "Issue invoice": some goods may have left. The server answers 409
 * order_not_delivered or already_invoiced when there is nothing to invoice, and that is shown. */
export function canAskForInvoice(status: string): boolean {
  return LEFT_STATUSES.has(status);
}
