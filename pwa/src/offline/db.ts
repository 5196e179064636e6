/** The app's IndexedDB database: the last data seen (`cache`) and actions waiting to be sent (`outbox`). */
import { openDB, type DBSchema, type IDBPDatabase } from "idb";

import type { OutboxEntry } from "./outbox";

export interface CachedValue {
  key: string;
  value: unknown;
  /** When the server gave it (ms since the epoch), to say how old an offline screen is. */
  savedAt: number;
}

export interface ComptoirDB extends DBSchema {
  cache: { key: string; value: CachedValue };
  outbox: { key: string; value: OutboxEntry; indexes: { byCreatedAt: number } };
}

export const DB_NAME = "comptoir";
const DB_VERSION = 1;

let opening: Promise<IDBPDatabase<ComptoirDB>> | null = null;

/** The database, opened once per page (or per test, after `closeDatabase`). */
export function database(): Promise<IDBPDatabase<ComptoirDB>> {
  opening ??= openDB<ComptoirDB>(DB_NAME, DB_VERSION, {
    upgrade(db) {
      db.createObjectStore("cache", { keyPath: "key" });
      const outbox = db.createObjectStore("outbox", { keyPath: "id" });
      outbox.createIndex("byCreatedAt", "createdAt");
    },
    // Another tab runs a newer version that needs to upgrade: let it, and reopen next time.
    blocking() {
      void opening?.then((db) => db.close());
      opening = null;
    },
  }).catch((error: unknown) => {
    opening = null; // private mode or storage disabled: try again next time rather than never
    throw error;
  });
  return opening;
}

export async function closeDatabase(): Promise<void> {
  const db = await opening?.catch(() => null);
  db?.close();
  opening = null;
}
