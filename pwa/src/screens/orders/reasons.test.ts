import { describe, expect, it } from "vitest";

import { explainReason, type Reason } from "./reasons";
import samples from "./reasons.samples.json";

// Written by tests/routing/test_reason_messages.py: a reason of every code, with the
// server's English sentence for it. The server leaves out parameters at their default (an
// empty list, false), as the API does.
const all = samples as unknown as { reason: Reason; english: string }[];

describe("routing reasons", () => {
  it("say in English exactly what the server says, for every code", () => {
    for (const { reason, english } of all) {
      expect(explainReason(reason, "(fallback)", "en")).toBe(english);
    }
  });

  it("say every code in French, with no English word and no placeholder left", () => {
    for (const { reason, english } of all) {
      const french = explainReason(reason, "(fallback)", "fr");
      expect(french).not.toBe(english);
      expect(french).not.toMatch(/[{}]|\bwith\b|\bmore\b|Cannot/);
    }
  });

  it("formats distances, amounts and lists the French way", () => {
    const nearest: Reason = { code: "single_location", location: "WH-LYON", because: { code: "nearest" } as Reason, km: 3.04 } as Reason;
    expect(explainReason(nearest, "", "fr")).toBe("WH-LYON : le plus proche, avec tous les articles, à 3,0 km.");
    const costlier = { code: "costlier", amount: 1200, other_amount: 390 } as Reason;
    expect(explainReason(costlier, "", "fr")).toBe("plus cher à expédier : 12,00 contre 3,90");
    const split = { code: "split", locations: ["ST-LYON-02", "WH-LYON"], limit: 2 } as unknown as Reason;
    expect(explainReason(split, "", "fr")).toContain("Répartie entre ST-LYON-02 et WH-LYON :");
  });

  it("chooses the plural form by the count", () => {
    const one = { code: "missing_items", missing: ["A", "B", "C"], more_missing: 1 } as unknown as Reason;
    const two = { code: "missing_items", missing: ["A", "B", "C"], more_missing: 2 } as unknown as Reason;
    expect(explainReason(one, "", "fr")).toBe("il manque A, B, C et 1 autre");
    expect(explainReason(two, "", "fr")).toBe("il manque A, B, C et 2 autres");
    const waitingOne = { code: "waiting_for_capacity", locations: ["ST-1"], held_at: ["ST-1"] } as unknown as Reason;
    const waitingTwo = { code: "waiting_for_capacity", locations: ["ST-1", "ST-2"], held_at: ["ST-1", "ST-2"] } as unknown as Reason;
    expect(explainReason(waitingOne, "", "fr")).toContain("ST-1 est complet aujourd'hui");
    expect(explainReason(waitingTwo, "", "fr")).toContain("ST-1 et ST-2 sont complets aujourd'hui");
    const full = { code: "at_capacity", orders: 2, capacity: 2 } as Reason;
    expect(explainReason(full, "", "fr")).toBe("complet (2 commandes sur 2 aujourd'hui)");
  });

  it("shows the stored English sentence for a decision stored before reasons had codes", () => {
    expect(explainReason(null, "WH-LYON: nearest with all items, 3.2 km.", "fr")).toBe("WH-LYON: nearest with all items, 3.2 km.");
    expect(explainReason(undefined, "inactive", "fr")).toBe("inactive");
  });

  it("shows the English sentence for a code this build does not know, even nested", () => {
    const newer = { code: "carbon_footprint" } as unknown as Reason;
    expect(explainReason(newer, "greener", "fr")).toBe("greener");
    const nested = { code: "not_in_split", because: newer } as unknown as Reason;
    expect(explainReason(nested, "not in the best split", "fr")).toBe("not in the best split");
  });
});
