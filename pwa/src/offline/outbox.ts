/**
 * The outbox: actions taken on this phone, kept in IndexedDB until the server has answered.
 *
 * Each action has an id that is also its `Idempotency-Key`; actions are sent in the order
 * they were taken, one at a time. An action is never dropped: it stays *pending* while the
 * network or the server is away (retried with backoff), becomes *sent* when the server
 * accepts it and *failed*, with the server's problem, when the server refuses it (a 4xx).
 * Only the person can clear a failed action from the list.
 */
import { isProblem, type Problem } from "../api/problem";
import { database } from "./db";

export type OutboxStatus = "pending" | "sending" | "sent" | "failed";

/** Why a pending action has not been sent yet. */
export type WaitReason = "network" | "server" | "session" | "busy";

export interface OutboxRequest {
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  /** Same-origin path, e.g. `/api/inventory/adjustments`. */
  url: string;
  body?: unknown;
  /** Extra headers, e.g. `If-Match` for an order edit. */
  headers?: Record<string, string>;
}

export interface OutboxEntry {
  /** A UUID, sent as the `Idempotency-Key` header on every attempt. */
  id: string;
  /** Staff id of the person who took the action: only their session sends it. */
  owner: string;
  /** What the action is, for the list (`stock.adjust`, `stock.count`, later `order.hold`…). */
  kind: string;
  /** What it is about, so a screen shows its own (`SKU`, an order number). */
  subject: string;
  /** Values for the sentence that describes it (sku, location, delta…). */
  params: Record<string, string | number>;
  request: OutboxRequest;
  status: OutboxStatus;
  createdAt: number;
  attempts: number;
  /** Not retried before this time (backoff), unless a send is forced. */
  nextAttemptAt: number;
  waitingFor?: WaitReason;
  sentAt?: number;
  /** The server's answer to the accepted action. */
  response?: unknown;
  failedAt?: number;
  httpStatus?: number;
  /** The server's refusal (RFC 9457 problem), shown to the person. */
  problem?: Problem | null;
}

export interface NewAction {
  owner: string;
  kind: string;
  subject: string;
  params: Record<string, string | number>;
  request: OutboxRequest;
}

export type SendResult =
  | { outcome: "sent"; status: number; body: unknown }
  | { outcome: "refused"; status: number; problem: Problem | null }
  | { outcome: "retry"; reason: WaitReason; status?: number };

/** Sends one action to the server; never throws (a lost network is a `retry`). */
export type Sender = (entry: OutboxEntry) => Promise<SendResult>;

export interface FlushReport {
  sent: OutboxEntry[];
  failed: OutboxEntry[];
  /** Set when the pass stopped on an action that must wait, and why. */
  waiting: WaitReason | null;
}

/** Sent actions stay listed this long (so the person sees they went), then are forgotten. */
export const SENT_KEPT_MS = 24 * 60 * 60 * 1000;

const MAX_BACKOFF_MS = 60_000;

/** 2 s, 4 s, 8 s… up to a minute between tries of an action that keeps waiting. */
export function retryDelay(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 2000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * What an HTTP answer means for a queued action. A refusal (4xx) is final; a session to
 * renew (401, a stale CSRF token), a busy or failing server (408, 425, 429, 5xx) and a
 * request still being processed under the same key are tried again later.
 */
export function classifyResponse(status: number, body: unknown): SendResult {
  const problem = isProblem(body) ? body : null;
  if (status >= 200 && status < 300) return { outcome: "sent", status, body };
  if (status === 401 || (status === 403 && problem?.code === "csrf_failed")) {
    return { outcome: "retry", reason: "session", status };
  }
  if (status === 408 || status === 425 || status === 429) {
    return { outcome: "retry", reason: "busy", status };
  }
  if (status === 409 && problem?.code === "idempotency_key_in_use") {
    return { outcome: "retry", reason: "busy", status };
  }
  if (status >= 400 && status < 500) return { outcome: "refused", status, problem };
  return { outcome: "retry", reason: "server", status };
}

/** Where entries are kept; IndexedDB in the app, the same through fake-indexeddb in tests. */
export interface OutboxStore {
  all(): Promise<OutboxEntry[]>;
  get(id: string): Promise<OutboxEntry | undefined>;
  put(entry: OutboxEntry): Promise<void>;
  delete(id: string): Promise<void>;
}

export const indexedDbStore: OutboxStore = {
  async all() {
    const db = await database();
    return db.getAllFromIndex("outbox", "byCreatedAt");
  },
  async get(id) {
    const db = await database();
    return db.get("outbox", id);
  },
  async put(entry) {
    const db = await database();
    await db.put("outbox", entry);
  },
  async delete(id) {
    const db = await database();
    await db.delete("outbox", id);
  },
};

export interface OutboxOptions {
  store?: OutboxStore;
  now?: () => number;
  newId?: () => string;
  /** Runs a send pass exclusively across tabs (Web Locks in the app); as is by default. */
  exclusive?: <T>(work: () => Promise<T>) => Promise<T>;
}

function byAge(a: OutboxEntry, b: OutboxEntry): number {
  return a.createdAt - b.createdAt || a.id.localeCompare(b.id);
}

export class Outbox {
  private readonly store: OutboxStore;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  // Send passes of this page run one after the other, never side by side.
  private passes: Promise<unknown> = Promise.resolve();

  constructor(options: OutboxOptions = {}) {
    this.store = options.store ?? indexedDbStore;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.exclusive = options.exclusive ?? ((work) => work());
  }

  /** Keep an action to send; it is pending until a send pass gets an answer for it. */
  async enqueue(action: NewAction): Promise<OutboxEntry> {
    const now = this.now();
    const entry: OutboxEntry = {
      ...action,
      id: this.newId(),
      status: "pending",
      createdAt: now,
      attempts: 0,
      nextAttemptAt: now,
    };
    await this.store.put(entry);
    return entry;
  }

  /** Every action kept, oldest first. */
  async list(): Promise<OutboxEntry[]> {
    return (await this.store.all()).sort(byAge);
  }

  async get(id: string): Promise<OutboxEntry | undefined> {
    return this.store.get(id);
  }

  /**
   * Send `owner`'s due actions, oldest first, until one must wait (its successors wait too,
   * so the server sees the actions in the order they were taken). `force` ignores backoff:
   * the network just came back, the app just started, or the person asked.
   */
  flush(send: Sender, options: { owner: string; force?: boolean }): Promise<FlushReport> {
    const pass = this.passes.then(() => this.exclusive(() => this.sendDue(send, options)));
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private async sendDue(
    send: Sender,
    { owner, force = false }: { owner: string; force?: boolean },
  ): Promise<FlushReport> {
    const report: FlushReport = { sent: [], failed: [], waiting: null };
    const now = this.now();
    for (const entry of await this.list()) {
      if (entry.owner !== owner) continue;
      if (entry.status === "sent" || entry.status === "failed") continue;
      // "sending" here means a pass was cut off (tab closed mid-request): its answer never
      // came, so it is sent again, under the same Idempotency-Key.
      if (!force && entry.nextAttemptAt > now) {
        report.waiting = entry.waitingFor ?? "network";
        break;
      }
      const attempt: OutboxEntry = {
        ...entry,
        status: "sending",
        attempts: entry.attempts + 1,
      };
      await this.store.put(attempt);
      const result = await send(attempt);
      const after = this.now();
      if (result.outcome === "sent") {
        const sent: OutboxEntry = {
          ...attempt,
          status: "sent",
          sentAt: after,
          response: result.body,
          waitingFor: undefined,
        };
        await this.store.put(sent);
        report.sent.push(sent);
      } else if (result.outcome === "refused") {
        const failed: OutboxEntry = {
          ...attempt,
          status: "failed",
          failedAt: after,
          httpStatus: result.status,
          problem: result.problem,
          waitingFor: undefined,
        };
        await this.store.put(failed);
        report.failed.push(failed);
      } else {
        await this.store.put({
          ...attempt,
          status: "pending",
          waitingFor: result.reason,
          nextAttemptAt: after + retryDelay(attempt.attempts),
        });
        report.waiting = result.reason;
        break;
      }
    }
    return report;
  }

  /** Remove a sent or failed action from the list; a pending one cannot be removed. */
  async dismiss(id: string): Promise<boolean> {
    const entry = await this.store.get(id);
    if (!entry || entry.status === "pending" || entry.status === "sending") return false;
    await this.store.delete(id);
    return true;
  }

  /** Forget sent actions older than `SENT_KEPT_MS`; pending and failed ones stay. */
  async prune(): Promise<number> {
    const cutoff = this.now() - SENT_KEPT_MS;
    let removed = 0;
    for (const entry of await this.store.all()) {
      if (entry.status === "sent" && (entry.sentAt ?? entry.createdAt) < cutoff) {
        await this.store.delete(entry.id);
        removed += 1;
      }
    }
    return removed;
  }
}
