/** Pure translation helpers: choosing a language and looking a message up, with fallbacks. */
import type { MessageKey } from "./en";

export const LOCALES = ["fr", "en"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "en";

export type Catalog = Partial<Record<MessageKey, string>>;
export type Params = Record<string, string | number>;

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

/**
 * The language to show: the one the person chose (stored), else the first of the browser's
 * languages we speak (`fr-CA` counts as `fr`), else English.
 */
export function pickLocale(stored: string | null, browserLanguages: readonly string[]): Locale {
  if (isLocale(stored)) return stored;
  for (const tag of browserLanguages) {
    const primary = tag.toLowerCase().split("-")[0];
    if (isLocale(primary)) return primary;
  }
  return DEFAULT_LOCALE;
}

/** Replace `{name}` placeholders; an unknown placeholder stays visible rather than vanishing. */
export function interpolate(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** The message in `locale`, else in English, else the key itself (never an empty string). */
export function translate(
  catalogs: Record<Locale, Catalog>,
  locale: Locale,
  key: MessageKey,
  params?: Params,
): string {
  const text = catalogs[locale][key] ?? catalogs[DEFAULT_LOCALE][key] ?? key;
  return interpolate(text, params);
}
