/** Numbers, money and times in the person's language. */
import type { Locale } from "./translate";

// Making an Intl formatter costs far more than using one, and a list formats every row: each
// kind is made once per language (and currency).
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  let found = formatters.get(key) as T | undefined;
  if (!found) formatters.set(key, (found = make()));
  return found;
}

/** 1999 EUR → "19,99 €" (fr) / "€19.99" (en); money travels in minor units. */
export function formatMoney(minor: number, currency: string, locale: Locale): string {
  const format = cached(`money:${locale}:${currency}`, () => new Intl.NumberFormat(locale, { style: "currency", currency }));
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/** A moment: the time alone when it is today, else the date and the time. */
export function formatMoment(ms: number, locale: Locale, now: number = Date.now()): string {
  const when = new Date(ms);
  const today = new Date(now).toDateString() === when.toDateString();
  return cached(`moment:${locale}:${today}`, () =>
    new Intl.DateTimeFormat(locale, today ? { timeStyle: "short" } : { dateStyle: "medium", timeStyle: "short" }),
  ).format(when);
}

export function formatNumber(value: number, locale: Locale): string {
  return cached(`number:${locale}`, () => new Intl.NumberFormat(locale)).format(value);
}

/** "+3" / "−2": a change of quantity with its sign, as people write it. */
export function signed(delta: number): string {
  return delta > 0 ? `+${delta}` : delta < 0 ? `\u2212${-delta}` : "0";
}
