import { describe, expect, it } from "vitest";

import { en } from "./en";
import { fr } from "./fr";
import { interpolate, pickLocale, translate, type Catalog, type Locale } from "./translate";

describe("pickLocale", () => {
  it("keeps the language the person chose over the browser's", () => {
    expect(pickLocale("en", ["fr-FR", "fr"])).toBe("en");
  });

  it("takes the first browser language we speak, ignoring the region", () => {
    expect(pickLocale(null, ["de-DE", "fr-CA", "en-GB"])).toBe("fr");
  });

  it("ignores a stored value that is no language we speak", () => {
    expect(pickLocale("klingon", ["fr-BE"])).toBe("fr");
  });

  it("falls back to English when nothing matches", () => {
    expect(pickLocale(null, ["de-DE", "es"])).toBe("en");
    expect(pickLocale(null, [])).toBe("en");
  });
});

describe("translate", () => {
  const catalogs: Record<Locale, Catalog> = {
    en: { "nav.home": "Home", "home.hello": "Hello, {name}" },
    fr: { "nav.home": "Accueil" },
  };

  it("uses the current language", () => {
    expect(translate(catalogs, "fr", "nav.home")).toBe("Accueil");
  });

  it("falls back to English for a message not yet translated", () => {
    expect(translate(catalogs, "fr", "home.hello", { name: "Léa" })).toBe("Hello, Léa");
  });

  it("shows the key rather than nothing when no language has the message", () => {
    expect(translate(catalogs, "fr", "nav.account")).toBe("nav.account");
  });

  it("leaves an unknown placeholder visible", () => {
    expect(interpolate("{count} orders for {who}", { count: 3 })).toBe("3 orders for {who}");
  });
});

describe("the catalogues", () => {
  it("French has every English message, each with the same placeholders", () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(fr[key], key).toBeTruthy();
      expect(placeholders(fr[key]), key).toEqual(placeholders(en[key]));
    }
  });
});
