import { describe, expect, it } from "vitest";

import { mergeHead, replaceRow, statusQuery, todayRange } from "./orders";

const row = (number: string, status = "confirmed") => ({ number, status });

describe("the orders list", () => {
  it("asks for every open status under Open, and no status under All", () => {
    expect(statusQuery("open")).toBe("awaiting_capacity,confirmed,on_hold,in_fulfillment,ready_for_pickup,partially_shipped");
    expect(statusQuery("all")).toBe("");
    expect(statusQuery("on_hold")).toBe("on_hold");
  });

  it("puts a new order at the top and updates a changed one in place", () => {
    const shown = [row("C-2"), row("C-1")];
    const merged = mergeHead(shown, [row("C-3"), row("C-2", "on_hold")], "open");
    expect(merged).toEqual([row("C-3"), row("C-2", "on_hold"), row("C-1")]);
  });

  it("drops an order that no longer matches the filter", () => {
    const shown = [row("C-2"), row("C-1")];
    expect(replaceRow(shown, row("C-1", "cancelled"), "open")).toEqual([row("C-2")]);
    expect(replaceRow(shown, row("C-1", "cancelled"), "all")).toEqual([row("C-2"), row("C-1", "cancelled")]);
  });

  it("counts today from local midnight to the next", () => {
    const { from, to } = todayRange(new Date(2026, 10, 26, 15, 30));
    expect(new Date(to).getTime() - new Date(from).getTime()).toBe(24 * 3600 * 1000);
    expect(new Date(from).getHours()).toBe(0);
  });
});
