/** Store work without I/O: the queue in groups, what queued actions will make of a status, picking counts. */
import type { Schemas } from "../../api/client";
import type { OutboxEntry } from "../../offline/outbox";

/** A fulfillment as the API shows it; `customer_arrived_at` once the server sends it. */
export type Fulfillment = Schemas["FulfillmentOut"] & { customer_arrived_at?: string | null };
export type FulfillmentLine = Schemas["FulfillmentLineOut"];

export type GroupName = "toPick" | "picking" | "ready" | "collected";
export const GROUPS: readonly GroupName[] = ["toPick", "picking", "ready", "collected"];

/** The statuses of the work still to do, one request each (handovers are asked by day). */
export const QUEUE_STATUSES = ["new", "picking", "packed", "partially_shipped", "ready_for_pickup"] as const;

/** The start of the phone's day, as the server takes it (`handed_over_since`): "collected today". */
export function startOfToday(now: number = Date.now()): string {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  return day.toISOString();
}

const GROUP_OF: Record<string, GroupName | undefined> = {
  new: "toPick",
  picking: "picking",
  packed: "picking",
  partially_shipped: "picking",
  ready_for_pickup: "ready",
  handed_over: "collected",
};

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

const time = (value: string | null | undefined): number => (value ? Date.parse(value) : Number.POSITIVE_INFINITY);

/**
 * The queue in the four groups the counter works from. Oldest work first; in "ready",
 * customers who said they are here come first; "collected" holds today's handovers only,
 * the latest first.
 */
export function groupQueue(items: readonly Fulfillment[], now: number = Date.now()): Record<GroupName, Fulfillment[]> {
  const groups: Record<GroupName, Fulfillment[]> = { toPick: [], picking: [], ready: [], collected: [] };
  const today = new Date(now);
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    const group = GROUP_OF[item.status];
    if (!group) continue;
    if (group === "collected" && !(item.handed_over_at && sameDay(new Date(item.handed_over_at), today))) continue;
    groups[group].push(item);
  }
  const byAge = (a: Fulfillment, b: Fulfillment) => Date.parse(a.created_at) - Date.parse(b.created_at);
  groups.toPick.sort(byAge);
  groups.picking.sort(byAge);
  groups.ready.sort(
    (a, b) =>
      time(a.customer_arrived_at) - time(b.customer_arrived_at) || time(a.ready_at) - time(b.ready_at) || byAge(a, b),
  );
  groups.collected.sort((a, b) => time(b.handed_over_at) - time(a.handed_over_at));
  return groups;
}

/** Units still to hand over or send. */
export function unitsLeft(item: Fulfillment): number {
  return (item.lines ?? []).reduce((n, line) => n + line.quantity, 0);
}

// --- actions taken on this phone -------------------------------------------------------------

export type WorkAction = "pick" | "pack" | "ship" | "ready-for-pickup" | "handover" | "reject";

/** The outbox kind of each action: `outbox.action.<kind>` describes it in the list. */
export const ACTION_KIND: Record<WorkAction, string> = {
  pick: "fulfillment.pick",
  pack: "fulfillment.pack",
  ship: "fulfillment.ship",
  "ready-for-pickup": "fulfillment.ready",
  handover: "fulfillment.handover",
  reject: "fulfillment.reject",
};

const ACTION_OF_KIND = new Map(Object.entries(ACTION_KIND).map(([action, kind]) => [kind, action as WorkAction]));

// Where an action leads when the server accepts it (ship and reject depend on what is left).
const LEADS_TO: Partial<Record<WorkAction, string>> = {
  pick: "picking",
  pack: "packed",
  "ready-for-pickup": "ready_for_pickup",
  handover: "handed_over",
};

/** This fulfillment's actions from the outbox, oldest first (the outbox keeps that order). */
export function actionsFor(entries: readonly OutboxEntry[], fulfillmentId: string): OutboxEntry[] {
  return entries.filter((e) => e.params.fulfillment === fulfillmentId && ACTION_OF_KIND.has(e.kind));
}

/**
 * The status to work from: the server's (read at `seenAt`), moved on by this phone's actions
 * not sent yet, or accepted since.
 * Offline, an associate picks, marks ready and hands over in a row; the server decides
 * when the actions arrive, and refuses (shown in the outbox) what no longer applies.
 */
export function projectedStatus(status: string, entries: readonly OutboxEntry[], seenAt: number | null = null): string {
  let projected = status;
  for (const entry of entries) {
    // An action the server accepted after `status` was read counts too, until the next read.
    const acceptedSince = entry.status === "sent" && seenAt !== null && (entry.sentAt ?? 0) > seenAt;
    if (entry.status !== "pending" && entry.status !== "sending" && !acceptedSince) continue;
    const action = ACTION_OF_KIND.get(entry.kind);
    const next = action ? LEADS_TO[action] : undefined;
    if (next) projected = next;
  }
  return projected;
}

// --- picking ---------------------------------------------------------------------------------

/** Units counted per SKU while picking (kept on the phone; the server has no per-unit step). */
export type Picks = Record<string, number>;

export type ScanResult =
  | { outcome: "picked"; line: FulfillmentLine; picked: number }
  | { outcome: "complete"; line: FulfillmentLine }
  | { outcome: "unknown" };

const compact = (code: string) => code.trim().replace(/\s+/g, "").toUpperCase();

/** The line a scanned or typed code names: its barcode, else its SKU. */
export function lineForCode(lines: readonly FulfillmentLine[], code: string): FulfillmentLine | undefined {
  const wanted = compact(code);
  if (!wanted) return undefined;
  return (
    lines.find((line) => line.barcode && compact(line.barcode) === wanted) ??
    lines.find((line) => compact(line.sku) === wanted)
  );
}

/** Count one unit of the line `code` names, if any is still to pick. */
export function pickOne(lines: readonly FulfillmentLine[], picks: Picks, code: string): { picks: Picks; result: ScanResult } {
  const candidates = lines.filter((line) => line.quantity > 0);
  const line = lineForCode(candidates, code);
  if (!line) return { picks, result: { outcome: "unknown" } };
  const already = picks[line.sku] ?? 0;
  if (already >= line.quantity) return { picks, result: { outcome: "complete", line } };
  const next = { ...picks, [line.sku]: already + 1 };
  return { picks: next, result: { outcome: "picked", line, picked: already + 1 } };
}

/** Every unit still to send is counted. */
export function allPicked(lines: readonly FulfillmentLine[], picks: Picks): boolean {
  const open = lines.filter((line) => line.quantity > 0);
  return open.length > 0 && open.every((line) => (picks[line.sku] ?? 0) >= line.quantity);
}

/** The customer's pickup code as the counter reads it (spaces and dashes do not count). */
export function normalisePickupCode(raw: string): string {
  return raw.trim().toUpperCase().replace(/[\s-]+/g, "");
}
