import { describe, expect, it } from "vitest";

import {
  csvHref,
  findingsCount,
  formatTotals,
  isDay,
  reconciliationQuery,
  reportCacheKey,
  sectionHint,
  sectionTitle,
  SECTIONS,
  todayIn,
} from "./reconciliation";
import { reportsEn as en } from "../../i18n/reports.en";
import { reportsFr as fr } from "../../i18n/reports.fr";

describe("todayIn", () => {
  it("is the day of the retailer's calendar, not the phone's nor UTC's", () => {
    // 23:30 UTC on 3 December is already 4 December in Paris (UTC+1 in winter).
    expect(todayIn("Europe/Paris", new Date("2026-12-03T23:30:00Z"))).toBe("2026-12-04");
    expect(todayIn("Europe/Paris", new Date("2026-12-03T22:59:00Z"))).toBe("2026-12-03");
    // Summer time: UTC+2.
    expect(todayIn("Europe/Paris", new Date("2026-07-01T22:00:00Z"))).toBe("2026-07-02");
  });
});

describe("isDay", () => {
  it("takes only days that exist, written YYYY-MM-DD", () => {
    expect(isDay("2026-12-03")).toBe(true);
    expect(isDay("2028-02-29")).toBe(true);
    expect(isDay("2026-02-29")).toBe(false);
    expect(isDay("2026-02-30")).toBe(false);
    expect(isDay("03/12/2026")).toBe(false);
    expect(isDay("")).toBe(false);
  });
});

describe("the query and the CSV link", () => {
  it("ask the day and language shown, today's when the day is not one", () => {
    expect(reconciliationQuery("2026-12-03", "fr")).toEqual({ date: "2026-12-03", lang: "fr" });
    expect(reconciliationQuery("", "en")).toEqual({ lang: "en" });
    expect(csvHref("2026-12-03", "fr")).toBe("/api/reports/reconciliation.csv?date=2026-12-03&lang=fr");
    expect(csvHref("nope", "en")).toBe("/api/reports/reconciliation.csv?lang=en");
    expect(reportCacheKey("2026-12-03", "fr")).not.toBe(reportCacheKey("2026-12-04", "fr"));
    expect(reportCacheKey("2026-12-03", "fr")).not.toBe(reportCacheKey("2026-12-03", "en"));
  });
});

describe("sections", () => {
  it("each has a title and a hint in both languages", () => {
    for (const section of SECTIONS) {
      const title = sectionTitle(section);
      const hint = sectionHint(section)!;
      expect(title).not.toBe("reconciliation.section.unknown");
      for (const catalog of [en, fr] as Record<string, string>[]) {
        expect(catalog[title]).toBeTruthy();
        expect(catalog[hint]).toBeTruthy();
      }
    }
    expect(sectionTitle("something_new")).toBe("reconciliation.section.unknown");
    expect(sectionHint("something_new")).toBeNull();
  });

  it("totals are written per currency, and a report counts its findings", () => {
    expect(formatTotals([], "en")).toBe("");
    expect(formatTotals([{ currency: "EUR", amount: 1200 }, { currency: "GBP", amount: 300 }], "en")).toBe("€12.00 · £3.00");
    expect(findingsCount([{ count: 2 }, { count: 0 }, { count: 1 }])).toBe(3);
  });
});
