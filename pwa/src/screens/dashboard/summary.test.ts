import { describe, expect, it } from "vitest";

import { summarizeDay } from "./summary";

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
