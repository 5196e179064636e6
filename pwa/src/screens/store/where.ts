/** The store a manager chose to work at, kept on this phone (associates work at their own). */
import { signal } from "@preact/signals";

import { onSignedOut } from "../../state/session";

const STORAGE_KEY = "comptoir.store";

function stored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export const chosenStore = signal<string | null>(stored());

export function chooseStore(code: string | null): void {
  chosenStore.value = code;
  try {
    if (code) localStorage.setItem(STORAGE_KEY, code);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Not kept across visits; the choice still applies now.
  }
}

onSignedOut(() => chooseStore(null));
