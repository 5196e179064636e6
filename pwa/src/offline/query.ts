/** A screen's data from the server, shown at once from what this phone kept, then refreshed. */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { recall, remember } from "./cache";

export interface QueryState<T> {
  data: T | null;
  /** When `data` came from the server (ms since the epoch). */
  savedAt: number | null;
  /** `data` is what this phone kept, not (yet) a fresh answer. */
  fromCache: boolean;
  loading: boolean;
  error: unknown;
}

const NOTHING: QueryState<never> = {
  data: null,
  savedAt: null,
  fromCache: false,
  loading: true,
  error: null,
};

/**
 * Load `key` with `fetch`: what was kept under that key shows first; a fresh answer replaces
 * it and is kept; without an answer the kept data stays, with the error to explain why.
 */
export function useCachedQuery<T>(
  key: string,
  fetch: () => Promise<T>,
): { state: QueryState<T>; reload: () => Promise<void> } {
  const state = useSignal<QueryState<T>>(NOTHING);
  const run = useRef(0);

  const load = async () => {
    const mine = ++run.current;
    state.value = { ...state.value, loading: true, error: null };
    const fresh = fetch();
    fresh.catch(() => undefined); // handled below, after the kept value is shown
    const kept = await recall<T>(key);
    if (mine !== run.current) return;
    if (kept && state.value.data === null) {
      state.value = { ...state.value, data: kept.value, savedAt: kept.savedAt, fromCache: true };
    }
    try {
      const data = await fresh;
      if (mine !== run.current) return;
      const savedAt = Date.now();
      state.value = { data, savedAt, fromCache: false, loading: false, error: null };
      void remember(key, data, savedAt);
    } catch (error) {
      if (mine !== run.current) return;
      state.value = { ...state.value, loading: false, error };
    }
  };

  useEffect(() => {
    state.value = NOTHING;
    void load();
  }, [key]);

  return { state: state.value, reload: load };
}
