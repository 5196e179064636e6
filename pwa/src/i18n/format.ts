/** Numbers, money and times in the person's language. */
import type { Locale } from "./translate";

/** 1999 EUR → "19,99 €" (fr) / "€19.99" (en); money travels in minor units. */
export function formatMoney(minor: number, currency: string, locale: Locale): string {
  const digits = new Intl.NumberFormat(locale, { style: "currency", currency }).resolvedOptions()
    .maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(minor / 10 ** digits);
}

/** A moment: the time alone when it is today, else the date and the time. */
export function formatMoment(ms: number, locale: Locale, now: number = Date.now()): string {
  const when = new Date(ms);
  const today = new Date(now).toDateString() === when.toDateString();
  return new Intl.DateTimeFormat(
    locale,
    today ? { timeStyle: "short" } : { dateStyle: "medium", timeStyle: "short" },
  ).format(when);
}

export function formatNumber(value: number, locale: Locale): string {
  return new Intl.NumberFormat(locale).format(value);
}

/** "+3" / "−2": a change of quantity with its sign, as people write it. */
export function signed(delta: number): string {
  return delta > 0 ? `+${delta}` : delta < 0 ? `\u2212${-delta}` : "0";
}
