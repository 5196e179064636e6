import { describe, expect, it, vi } from "vitest";

import type { Location } from "../../api/client";
import { signed } from "../../i18n/format";
import {
  batchAfterPause,
  changeableLocations,
  findExactVariant,
  levelFromEvent,
  parseWholeNumber,
  skusReservedBy,
  totals,
  withLiveLevels,
  type Product,
} from "./stock";

function product(name: string, variants: Array<{ sku: string; barcode?: string | null }>): Product {
  return {
    id: name,
    name,
    description: "",
    brand: "",
    category: "",
    active: true,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    variants: variants.map((v) => ({
      id: v.sku,
      sku: v.sku,
      barcode: v.barcode ?? null,
      name: `${name} ${v.sku}`,
      options: {},
      tax_class: "standard",
      price: 1999,
      currency: "EUR",
      weight_g: 200,
      active: true,
    })),
  };
}

const tees = product("T-shirt", [
  { sku: "TEE-BLK-M", barcode: "3760000000017" },
  { sku: "TEE-BLK-L", barcode: "3760000000024" },
]);
const mug = product("Mug", [{ sku: "MUG-1", barcode: "3760000000031" }]);

describe("findExactVariant (a scan or a handheld scanner's Enter)", () => {
  it("opens the SKU whose barcode was scanned", () => {
    expect(findExactVariant([tees, mug], "3760000000024")).toBe("TEE-BLK-L");
  });

  it("opens a SKU typed in full, whatever its case", () => {
    expect(findExactVariant([tees, mug], " tee-blk-m ")).toBe("TEE-BLK-M");
  });

  it("does not guess from part of a code", () => {
    expect(findExactVariant([tees, mug], "TEE-BLK")).toBeNull();
    expect(findExactVariant([tees, mug], "376000000002")).toBeNull();
    expect(findExactVariant([tees, mug], "")).toBeNull();
  });
});

describe("changeableLocations (mirrors the server's rule)", () => {
  const places = [
    { code: "WH-PARIS", active: true },
    { code: "ST-LYON-01", active: true },
    { code: "ST-OLD", active: false },
  ] as Location[];

  it("lets a manager change stock at every active location", () => {
    expect(changeableLocations({ role: "manager", location: null }, places)).toEqual(["WH-PARIS", "ST-LYON-01"]);
  });

  it("lets an associate change stock only at their own location", () => {
    expect(changeableLocations({ role: "associate", location: "ST-LYON-01" }, places)).toEqual(["ST-LYON-01"]);
    expect(changeableLocations({ role: "associate", location: null }, places)).toEqual([]);
  });

  it("falls back to where the SKU has stock when the location list is not known (offline)", () => {
    expect(changeableLocations({ role: "admin", location: null }, [], ["WH-LYON"])).toEqual(["WH-LYON"]);
  });
});

describe("totals", () => {
  it("adds up every location, never promising a negative availability", () => {
    expect(
      totals([
        { sku: "A", location: "X", on_hand: 5, reserved: 1, safety_stock: 0, available: 4 },
        { sku: "A", location: "Y", on_hand: 1, reserved: 0, safety_stock: 3, available: -2 },
      ]),
    ).toEqual({ on_hand: 6, reserved: 1, available: 4 });
  });
});

describe("parseWholeNumber", () => {
  it("reads whole numbers as people type them, typographic minus included", () => {
    expect(parseWholeNumber("3")).toBe(3);
    expect(parseWholeNumber("+3")).toBe(3);
    expect(parseWholeNumber(" -2 ")).toBe(-2);
    expect(parseWholeNumber("\u22122")).toBe(-2);
  });

  it("refuses decimals, words and empty input", () => {
    for (const text of ["1.5", "2,0", "three", "", "-", "1e3"]) expect(parseWholeNumber(text), text).toBeNull();
  });

  it("writes a change with its sign", () => {
    expect(signed(3)).toBe("+3");
    expect(signed(-2)).toBe("\u22122");
  });
});

describe("stock changed live", () => {
  const level = (location: string, on_hand: number, reserved = 0) => ({
    sku: "TEE",
    location,
    on_hand,
    reserved,
    safety_stock: 0,
    available: on_hand - reserved,
  });

  it("reads the level a stock event carries, and nothing from another kind of event", () => {
    expect(
      levelFromEvent({ sku: "TEE", location: "WH-PARIS", on_hand: 4, reserved: 1, safety_stock: 0, available: 3, kind: "sale" }),
    ).toEqual(level("WH-PARIS", 4, 1));
    expect(levelFromEvent({ number: "CMP-1", status: "on_hold" })).toBeNull();
  });

  it("puts a changed level in its place and adds a location that had none", () => {
    const shown = [level("ST-LYON-01", 2), level("WH-PARIS", 9)];
    const merged = withLiveLevels(shown, { "WH-PARIS": level("WH-PARIS", 7), "ST-BORDEAUX": level("ST-BORDEAUX", 1) });
    expect(merged.map((l) => [l.location, l.on_hand])).toEqual([
      ["ST-LYON-01", 2],
      ["WH-PARIS", 7],
      ["ST-BORDEAUX", 1],
    ]);
    expect(withLiveLevels(shown, {})).toEqual(shown);
  });
});

describe("order events on the stock feed", () => {
  it("name the SKUs whose reservations they changed", () => {
    const captured = {
      type: "order.captured",
      data: { allocations: [{ sku: "TEE", location: "WH", quantity: 1 }, { sku: "CAP", location: "WH", quantity: 2 }] },
    };
    expect(skusReservedBy(captured)).toEqual(["CAP", "TEE"]);
    const edited = {
      type: "order.edited",
      data: { lines: [{ sku: "MUG", from: 1, to: 0 }], reserved: [], released: [{ sku: "MUG", location: "WH", quantity: 1 }] },
    };
    expect(skusReservedBy(edited)).toEqual(["MUG"]);
    expect(skusReservedBy({ type: "fulfillment.rejected", data: { rerouted: [{ sku: "HAT", location: "ST", quantity: 1 }] } })).toEqual(["HAT"]);
    expect(skusReservedBy({ type: "order.note_added", data: { text: "call" } })).toEqual([]);
    // A stock event says its new figures itself: nothing to read again.
    expect(skusReservedBy({ type: "inventory.changed", data: { sku: "TEE", location: "WH", reserved: 2 } })).toEqual([]);
  });

  it("are read once per burst, for every SKU of the burst", () => {
    vi.useFakeTimers();
    const runs: string[][] = [];
    const batch = batchAfterPause(200, (keys) => runs.push(keys.sort()));
    batch.add(["TEE"]);
    vi.advanceTimersByTime(150);
    batch.add(["CAP", "TEE"]);
    vi.advanceTimersByTime(199);
    expect(runs).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(runs).toEqual([["CAP", "TEE"]]);
    batch.add(["MUG"]);
    batch.cancel();
    vi.advanceTimersByTime(500);
    expect(runs).toEqual([["CAP", "TEE"]]);
    vi.useRealTimers();
  });
});
