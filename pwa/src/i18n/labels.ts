/** Names of server values (roles, location kinds) in the current language. */
import { catalogs, locale, t, type MessageKey } from "./index";

function label(prefix: string, value: string): string {
  const key = `${prefix}.${value}` as MessageKey;
  // A value the server added after this build shows as itself rather than as a key.
  return key in catalogs[locale.value] || key in catalogs.en ? t(key) : value;
}

export const roleLabel = (role: string): string => label("role", role);
export const roleScope = (role: string): string => label(`role.${role}`, "scope");
export const kindLabel = (kind: string): string => label("location.kind", kind);
