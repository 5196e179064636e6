import { describe, expect, it } from "vitest";

import { levelKey, splitHolds, summarizeDay, withLiveStockOuts } from "./summary";

describe("today's figures", () => {
  it("counts the day's orders and adds their totals, leaving cancelled orders out", () => {
    const summary = summarizeDay([
      { status: "confirmed", total: 2900, currency: "EUR" },
      { status: "on_hold", total: 1450, currency: "EUR" },
      { status: "cancelled", total: 9999, currency: "EUR" },
    ]);
    expect(summary.count).toBe(2);
    expect(summary.revenue).toEqual([{ currency: "EUR", amount: 4350 }]);
  });

  it("keeps currencies apart", () => {
    const summary = summarizeDay([
      { status: "confirmed", total: 100, currency: "EUR" },
      { status: "confirmed", total: 200, currency: "CHF" },
    ]);
    expect(summary.revenue).toHaveLength(2);
  });
});

describe("stock-outs and holds", () => {
  const level = (sku: string, location: string, available: number) => ({
    sku,
    location,
    on_hand: available,
    reserved: 0,
    safety_stock: 0,
    available,
  });

  it("adds a level that ran out live and drops one that has stock again, in SKU order", () => {
    const read = [level("MUG", "WH-PARIS", 0), level("TEE", "ST-LYON-01", 0)];
    const now = withLiveStockOuts(read, {
      "TEE@ST-LYON-01": level("TEE", "ST-LYON-01", 3),
      "CAP@WH-LYON": level("CAP", "WH-LYON", 0),
      "MUG@ST-LYON-01": level("MUG", "ST-LYON-01", 0),
    });
    expect(now.map(levelKey)).toEqual(["CAP@WH-LYON", "MUG@ST-LYON-01", "MUG@WH-PARIS"]);
    expect(withLiveStockOuts(read, {})).toEqual(read);
  });

  it("puts orders held for stock apart from the other holds", () => {
    const held = [{ number: "A" }, { number: "B" }, { number: "C" }];
    const reasons = new Map<string, string | null>([["A", "stock_problem"], ["B", "suspected_fraud"]]);
    const { shortOfStock, other } = splitHolds(held, reasons);
    expect(shortOfStock.map((r) => r.number)).toEqual(["A"]);
    expect(other.map((r) => r.number)).toEqual(["B", "C"]);
  });
});
