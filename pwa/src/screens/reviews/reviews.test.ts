import { describe, expect, it } from "vitest";

import {
  badgeText,
  byWeight,
  decidedNumbers,
  formatPoints,
  isOver,
  mergeQueue,
  scoreFill,
  touchesReviews,
  undecided,
} from "./reviews";

const card = (number: string, created_at: string) => ({ number, created_at });

describe("live events that change the review queue", () => {
  it("a capture held as suspected fraud joins it; other holds do not", () => {
    expect(touchesReviews({ type: "order.held", data: { reason: "suspected_fraud", from: "confirmed" } })).toBe(true);
    expect(touchesReviews({ type: "order.held", data: { reason: "address_check" } })).toBe(false);
  });

  it("an approval (a release) or the rejection of a held order takes one out", () => {
    expect(touchesReviews({ type: "order.released", data: { to: "confirmed" } })).toBe(true);
    expect(touchesReviews({ type: "order.cancelled", data: { from: "on_hold" } })).toBe(true);
    expect(touchesReviews({ type: "order.cancelled", data: { from: "confirmed" } })).toBe(false);
  });

  it("ignores the rest of the orders topic (a capture alone, routing, fulfillment)", () => {
    for (const type of ["order.captured", "order.routed", "fulfillment.shipped", "invoice.issued"]) {
      expect(touchesReviews({ type, data: {} })).toBe(false);
    }
  });
});

describe("folding a fresh first page into the cards shown", () => {
  it("puts an order that arrived live first", () => {
    const shown = [card("A-2", "2026-12-03T10:02:00Z"), card("A-1", "2026-12-03T10:01:00Z")];
    const head = [card("A-3", "2026-12-03T10:03:00Z"), ...shown];
    expect(mergeQueue(shown, head, false).map((r) => r.number)).toEqual(["A-3", "A-2", "A-1"]);
  });

  it("drops an order decided elsewhere when the page is the whole queue", () => {
    const shown = [card("A-2", "2026-12-03T10:02:00Z"), card("A-1", "2026-12-03T10:01:00Z")];
    expect(mergeQueue(shown, [shown[1]!], false).map((r) => r.number)).toEqual(["A-1"]);
    expect(mergeQueue(shown, [], false)).toEqual([]);
  });

  it("keeps the cards of later pages, which the first page does not cover", () => {
    const shown = [
      card("A-5", "2026-12-03T10:05:00Z"),
      card("A-4", "2026-12-03T10:04:00Z"), // decided elsewhere: within the fresh page's reach
      card("A-3", "2026-12-03T10:03:00Z"),
      card("A-2", "2026-12-03T10:02:00Z"), // read with "more": below the fresh page
      card("A-1", "2026-12-03T10:01:00Z"),
    ];
    const head = [card("A-5", "2026-12-03T10:05:00Z"), card("A-3", "2026-12-03T10:03:00Z")];
    expect(mergeQueue(shown, head, true).map((r) => r.number)).toEqual(["A-5", "A-3", "A-2", "A-1"]);
  });

  it("takes the fresh version of a card it already shows", () => {
    const shown = [{ ...card("A-1", "2026-12-03T10:01:00Z"), score: 70 }];
    const head = [{ ...card("A-1", "2026-12-03T10:01:00Z"), score: 85 }];
    expect(mergeQueue(shown, head, false)).toEqual(head);
  });
});

describe("decisions taken on this phone", () => {
  const readAt = 1_000;
  const action = (subject: string, status: "pending" | "sending" | "sent" | "failed", sentAt?: number, kind = "order.approve") => ({
    kind,
    subject,
    status,
    sentAt,
  });

  it("hide the cards decided but not yet sent, and those accepted after the queue was read", () => {
    const decided = decidedNumbers(
      [action("A-1", "pending"), action("A-2", "sending", undefined, "order.reject"), action("A-3", "sent", 1_500)],
      readAt,
    );
    expect([...decided].sort()).toEqual(["A-1", "A-2", "A-3"]);
  });

  it("show again a card whose decision was refused, or accepted before the queue was read", () => {
    const decided = decidedNumbers([action("A-1", "failed"), action("A-2", "sent", 500)], readAt);
    expect(decided.size).toBe(0);
  });

  it("are only approvals and rejections (a note or a hold on the order page is not a decision)", () => {
    expect(decidedNumbers([action("A-1", "pending", undefined, "order.hold")], readAt).size).toBe(0);
  });

  it("leave the other cards in place", () => {
    const items = [card("A-2", "x"), card("A-1", "y")];
    expect(undecided(items, new Set(["A-2"]))).toEqual([items[1]]);
    expect(undecided(items, new Set())).toEqual(items);
  });
});

describe("the score and its reasons as a manager reads them", () => {
  it("lists the heaviest reason first, ties in the server's order", () => {
    const reasons = [
      { code: "new_customer", points: 10, text: "First order" },
      { code: "high_amount", points: 40, text: "Amount over 500 €" },
      { code: "address_mismatch", points: 10, text: "Billing and delivery differ" },
    ];
    expect(byWeight(reasons).map((r) => r.code)).toEqual(["high_amount", "new_customer", "address_mismatch"]);
    expect(reasons[0]!.code).toBe("new_customer"); // the list given is left as it was
  });

  it("writes points with their sign, a typographic minus for a rule that lowers the score", () => {
    expect(formatPoints(40)).toBe("+40");
    expect(formatPoints(-10)).toBe("\u221210");
  });

  it("fills the bar halfway at the threshold, fully at twice it", () => {
    expect(scoreFill(30, 60)).toBe(0.25);
    expect(scoreFill(60, 60)).toBe(0.5);
    expect(scoreFill(200, 60)).toBe(1);
    expect(scoreFill(-5, 60)).toBe(0);
    expect(scoreFill(10, 0)).toBe(1);
  });

  it("holds an order whose score is over the threshold, not at it", () => {
    expect(isOver(51, 50)).toBe(true);
    expect(isOver(50, 50)).toBe(false);
    expect(isOver(90, null)).toBe(false); // no threshold: screening is off
  });

  it("counts the queue on the navigation, with a + when more pages wait", () => {
    expect(badgeText(0, false)).toBe("");
    expect(badgeText(3, false)).toBe("3");
    expect(badgeText(20, true)).toBe("20+");
  });
});
