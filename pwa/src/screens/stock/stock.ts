/** Pure rules of the stock screens: finding a scanned code, who may change stock where, totals. */
import type { Location, Me, Schemas } from "../../api/client";

export type Product = Schemas["ProductOut"];
export type Variant = Schemas["VariantOut"];
export type Level = Schemas["LevelOut"];

/**
 * The SKU a scanned or typed code names: the variant whose barcode is the code, or whose SKU
 * is (ignoring case). Null when no variant, or more than one, matches exactly.
 */
export function findExactVariant(products: readonly Product[], code: string): string | null {
  const wanted = code.trim();
  if (!wanted) return null;
  const lower = wanted.toLowerCase();
  const matches = new Set<string>();
  for (const product of products) {
    for (const variant of product.variants) {
      if (variant.barcode === wanted || variant.sku.toLowerCase() === lower) matches.add(variant.sku);
    }
  }
  return matches.size === 1 ? [...matches][0]! : null;
}

/**
 * Where this person may record adjustments and counts (the server checks the same):
 * managers and admins anywhere, an associate only at their own location. `seen` are the
 * locations the SKU has stock at, enough for a manager when the location list is unknown.
 */
export function changeableLocations(
  who: Pick<Me, "role" | "location">,
  all: readonly Location[],
  seen: readonly string[] = [],
): string[] {
  if (who.role === "manager" || who.role === "admin") {
    const active = all.filter((l) => l.active).map((l) => l.code);
    return active.length ? active : [...seen];
  }
  if (who.role === "associate" && who.location) return [who.location];
  return [];
}

export interface Totals {
  on_hand: number;
  reserved: number;
  available: number;
}

export function totals(levels: readonly Level[]): Totals {
  return levels.reduce(
    (sum, l) => ({
      on_hand: sum.on_hand + l.on_hand,
      reserved: sum.reserved + l.reserved,
      available: sum.available + Math.max(0, l.available),
    }),
    { on_hand: 0, reserved: 0, available: 0 },
  );
}

/** A whole number typed by a person ("3", "+3", "-2", "−2"), or null for anything else. */
export function parseWholeNumber(text: string): number | null {
  const cleaned = text.trim().replace(/^[\u2212\u2013]/, "-"); // a typographic minus counts
  if (!/^[+-]?\d{1,9}$/.test(cleaned)) return null;
  return Number.parseInt(cleaned, 10);
}

/** The level a stock event (`inventory.changed` on the live feed) says a SKU now has somewhere. */
export function levelFromEvent(data: Record<string, unknown>): Level | null {
  const { sku, location, on_hand, reserved, safety_stock, available } = data;
  if (typeof sku !== "string" || typeof location !== "string") return null;
  const numbers = [on_hand, reserved, safety_stock, available];
  if (!numbers.every((n) => typeof n === "number")) return null;
  return {
    sku,
    location,
    on_hand: on_hand as number,
    reserved: reserved as number,
    safety_stock: safety_stock as number,
    available: available as number,
  };
}

/** Levels as read, with the ones changed live since put in their place (new locations added). */
export function withLiveLevels(levels: readonly Level[], live: Readonly<Record<string, Level>>): Level[] {
  const fresh = { ...live };
  const merged = levels.map((level) => {
    const now = fresh[level.location];
    delete fresh[level.location];
    return now ?? level;
  });
  const added = Object.values(fresh).sort((a, b) => (a.location < b.location ? -1 : 1));
  return [...merged, ...added];
}

// What an order event lists of the stock it reserved or gave back (capture, edit, cancel,
// a store's rejection sent elsewhere): rows of { sku, location, quantity }.
const RESERVATION_KEYS = ["allocations", "reserved", "released", "rerouted"] as const;

/**
 * The SKUs whose "available" an order event changed through reservations: it says no new
 * figures, so the screens read those SKUs' levels again. None for a stock event (it has them).
 */
export function skusReservedBy(event: { type: string; data: Record<string, unknown> }): string[] {
  if (event.type.startsWith("inventory.")) return [];
  const skus = new Set<string>();
  for (const key of RESERVATION_KEYS) {
    const rows = event.data[key];
    if (!Array.isArray(rows)) continue;
    for (const row of rows) {
      const sku = (row as { sku?: unknown } | null)?.sku;
      if (typeof sku === "string") skus.add(sku);
    }
  }
  return [...skus].sort();
}

/** Calls `run` with every key gathered in a burst, once, `pauseMs` after the last one. */
export function batchAfterPause(pauseMs: number, run: (keys: string[]) => void): { add: (keys: readonly string[]) => void; cancel: () => void } {
  let pending = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    add(keys) {
      if (!keys.length) return;
      for (const key of keys) pending.add(key);
      clearTimeout(timer);
      timer = setTimeout(() => {
        const keysNow = [...pending];
        pending = new Set();
        timer = undefined;
        run(keysNow);
      }, pauseMs);
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
      pending = new Set();
    },
  };
}
