/** The current language as a signal, `t()` to translate, and the choice kept in localStorage. */
import { signal } from "@preact/signals";

import { en, type MessageKey } from "./en";
import { fr } from "./fr";
import { pickLocale, translate, type Catalog, type Locale, type Params } from "./translate";

export type { Locale, MessageKey };
export { LOCALES } from "./translate";

export const catalogs: Record<Locale, Catalog> = { en: { ...en }, fr: { ...fr } };

/**
 * The words of a screen loaded on demand (payments, reconciliation), added when its module
 * loads: they stay out of the first page's JavaScript.
 */
export function addCatalogs(more: Record<Locale, Catalog>): void {
  Object.assign(catalogs.en, more.en);
  Object.assign(catalogs.fr, more.fr);
}

const STORAGE_KEY = "comptoir.locale";

export const LANGUAGE_NAMES: Record<Locale, string> = { fr: "Français", en: "English" };

function storedLocale(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage can be disabled (private mode, policy): fall back to the browser
  }
}

export const locale = signal<Locale>(
  pickLocale(storedLocale(), typeof navigator === "undefined" ? [] : navigator.languages),
);

/** Translate in the current language; reading it inside a component re-renders on a switch. */
export function t(key: MessageKey, params?: Params): string {
  return translate(catalogs, locale.value, key, params);
}

export function setLocale(next: Locale): void {
  locale.value = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not kept across visits, but the switch still applies now.
  }
}
