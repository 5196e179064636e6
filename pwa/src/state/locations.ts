/** The locations (warehouses, stores, 3PLs) from GET /api/locations, loaded once per session. */
import { signal } from "@preact/signals";

import { api, unwrap, type Location } from "../api/client";
import { NetworkError } from "../api/problem";
import { recall, remember } from "../offline/cache";
import { onSignedOut } from "./session";

export type Loadable<T> =
  | { state: "idle" }
  | { state: "loading" }
  | { state: "ready"; value: T }
  | { state: "failed"; error: unknown };

export const locations = signal<Loadable<Location[]>>({ state: "idle" });

const KEPT = "locations";

/** Load the list once; without network, the list this phone kept (it rarely changes). */
export async function loadLocations(options: { force?: boolean } = {}): Promise<void> {
  const current = locations.value.state;
  if (!options.force && (current === "loading" || current === "ready")) return;
  locations.value = { state: "loading" };
  try {
    const value = await unwrap(api.GET("/api/locations"));
    locations.value = { state: "ready", value };
    void remember(KEPT, value);
  } catch (error) {
    const kept = error instanceof NetworkError ? await recall<Location[]>(KEPT) : undefined;
    locations.value = kept ? { state: "ready", value: kept.value } : { state: "failed", error };
  }
}

/** A location already in the list, so its page opens at once from the home screen. */
export function knownLocation(code: string): Location | undefined {
  const current = locations.value;
  return current.state === "ready" ? current.value.find((l) => l.code === code) : undefined;
}

onSignedOut(() => {
  locations.value = { state: "idle" };
});
