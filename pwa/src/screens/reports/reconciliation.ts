/** The reconciliation screen's pure parts: the day asked, the API's query and CSV link, the
 * sections' words and totals. No I/O here. */
import { addCatalogs, type MessageKey } from "../../i18n";
import { formatMoney } from "../../i18n/format";
import { reportsEn } from "../../i18n/reports.en";
import { reportsFr } from "../../i18n/reports.fr";
import type { Locale } from "../../i18n/translate";

// The reconciliation screen's words come with it, not with the first page.
addCatalogs({ en: reportsEn, fr: reportsFr });

/** The retailer's calendar: the server counts days in it (invoicing's seller's days). */
export const RETAILER_TIME_ZONE = "Europe/Paris";

export const SECTIONS = [
  "left_not_captured",
  "left_without_payment",
  "captured_not_invoiced",
  "refunded_without_credit_note",
  "invoiced_differs",
  "pending_calls",
] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface Total {
  currency: string;
  amount: number;
}

/** Today in the retailer's calendar, as a date input writes it (`2026-12-03`). */
export function todayIn(timeZone: string = RETAILER_TIME_ZONE, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** A calendar day written YYYY-MM-DD that exists (not 2026-02-30). */
export function isDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = new Date(Date.UTC(year, month - 1, day));
  return at.getUTCFullYear() === year && at.getUTCMonth() === month - 1 && at.getUTCDate() === day;
}

/** The `GET /api/reports/reconciliation` query: the day (today's when none is valid) and the language. */
export function reconciliationQuery(day: string, lang: Locale): { date?: string; lang: Locale } {
  return isDay(day) ? { date: day, lang } : { lang };
}

/** The CSV download of the same day and language (a plain link: the session cookie goes with it). */
export function csvHref(day: string, lang: Locale): string {
  const query = new URLSearchParams(reconciliationQuery(day, lang) as Record<string, string>);
  return `/api/reports/reconciliation.csv?${query.toString()}`;
}

/** The key the day's report is kept under on the phone. */
export function reportCacheKey(day: string, lang: Locale): string {
  return `reconciliation:${isDay(day) ? day : "today"}:${lang}`;
}

export function sectionTitle(section: string): MessageKey {
  return (SECTIONS as readonly string[]).includes(section)
    ? (`reconciliation.section.${section}` as MessageKey)
    : "reconciliation.section.unknown";
}

export function sectionHint(section: string): MessageKey | null {
  return (SECTIONS as readonly string[]).includes(section) ? (`reconciliation.hint.${section}` as MessageKey) : null;
}

/** A section's totals as people read them, one per currency: "12,00 € · 3,00 £"; "" when none. */
export function formatTotals(totals: readonly Total[], locale: Locale): string {
  return totals.map((total) => formatMoney(total.amount, total.currency, locale)).join(" · ");
}

/** How many findings the whole report has. */
export function findingsCount(sections: readonly { count: number }[]): number {
  return sections.reduce((sum, section) => sum + section.count, 0);
}
