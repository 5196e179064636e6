/** The last data seen, kept in IndexedDB so a screen opens without network. */
import { database } from "./db";

export interface Remembered<T> {
  value: T;
  savedAt: number;
}

/** Keep what the server just answered for `key` (replacing what was kept before). */
export async function remember(key: string, value: unknown, now: number = Date.now()): Promise<void> {
  try {
    const db = await database();
    await db.put("cache", { key, value, savedAt: now });
  } catch {
    // No storage (private mode, quota): the screen still works online, just not offline.
  }
}

/** What was kept for `key`, or undefined when nothing was (or storage is unavailable). */
export async function recall<T>(key: string): Promise<Remembered<T> | undefined> {
  try {
    const db = await database();
    const found = await db.get("cache", key);
    return found ? { value: found.value as T, savedAt: found.savedAt } : undefined;
  } catch {
    return undefined;
  }
}

/** Every kept value whose key starts with `prefix` (e.g. the product lists seen). */
export async function recallAll<T>(prefix: string): Promise<Array<Remembered<T> & { key: string }>> {
  try {
    const db = await database();
    const range = IDBKeyRange.bound(prefix, prefix + "\uffff");
    const rows = await db.getAll("cache", range);
    return rows.map((row) => ({ key: row.key, value: row.value as T, savedAt: row.savedAt }));
  } catch {
    return [];
  }
}

/** Forget everything seen (at sign-out: the next person on this phone sees none of it). */
export async function forgetAll(): Promise<void> {
  try {
    const db = await database();
    await db.clear("cache");
  } catch {
    // Nothing could be stored either.
  }
}
