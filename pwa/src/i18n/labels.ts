/** Names of server values (roles, location kinds, event types, actors) in the current language. */
import type { Schemas } from "../api/client";
import { catalogs, locale, t, type MessageKey } from "./index";

/** `prefix.value` translated; a value the server added after this build shows as itself. */
export function valueLabel(prefix: string, value: string): string {
  const key = `${prefix}.${value}` as MessageKey;
  return key in catalogs[locale.value] || key in catalogs.en ? t(key) : value;
}

export const roleLabel = (role: string): string => valueLabel("role", role);
export const roleScope = (role: string): string => valueLabel(`role.${role}`, "scope");
export const kindLabel = (kind: string): string => valueLabel("location.kind", kind);

/** What happened, from the event's type (`fulfillment.handed_over` → "Remise au client"). */
export { eventLabel } from "./events";

type Actor = Schemas["ActorOut"];

/** Who did it: a person and their store, a system and its channel, the customer, Comptoir. */
export function actorLabel(by: Actor): string {
  const name = by.name ?? "";
  switch (by.kind) {
    case "customer":
      return t("actor.customer");
    case "comptoir":
      return t("actor.comptoir");
    case "staff":
      return by.place ? t("actor.staffAt", { name, place: by.place }) : name;
    case "system":
      return by.place ? t("actor.keyFor", { name, place: by.place }) : t("actor.key", { name });
    case "import":
      return t("actor.import", { name });
    default:
      return name;
  }
}
