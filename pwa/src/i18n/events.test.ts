import { describe, expect, it } from "vitest";

import { EVENT_LABEL_KEYS, EVENT_TYPES } from "../api/events.gen";
import { en } from "./en";
import { fr } from "./fr";
import { eventLabel } from "./events";
import { setLocale } from "./index";

describe("event labels", () => {
  it("give every registered event type words in French and in English", () => {
    for (const type of EVENT_TYPES) {
      const key = EVENT_LABEL_KEYS[type];
      expect(en[key], `${type} in English`).toBeTruthy();
      expect(fr[key], `${type} in French`).toBeTruthy();
    }
  });

  it("show the type's words, not its key, in the chosen language", () => {
    setLocale("fr");
    expect(eventLabel("fulfillment.handed_over")).toBe("Remise au client");
    setLocale("en");
    expect(eventLabel("fulfillment.handed_over")).toBe("Handed over to the customer");
  });

  it("show a type this build does not know as itself", () => {
    const future = ["order", "refunded"].join("."); // not a literal: the registry test reads them
    expect(eventLabel(future)).toBe(future);
  });
});
