import "fake-indexeddb/auto";

import { IDBFactory } from "fake-indexeddb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { closeDatabase } from "./db";
import {
  classifyResponse,
  Outbox,
  retryDelay,
  SENT_KEPT_MS,
  type NewAction,
  type OutboxEntry,
  type SendResult,
} from "./outbox";
import { sendOverHttp } from "./send";

const MANAGER = "staff-manager";

function adjustment(delta: number, sku = "TEE-BLK-M"): NewAction {
  return {
    owner: MANAGER,
    kind: "stock.adjust",
    subject: sku,
    params: { sku, location: "WH-PARIS", delta },
    request: {
      method: "POST",
      url: "/api/inventory/adjustments",
      body: { sku, location: "WH-PARIS", delta, reason: "recount" },
    },
  };
}

/** A server that applies each accepted adjustment to a stock figure, like the real one would. */
class FakeServer {
  onHand = 10;
  received: OutboxEntry[] = [];
  /** What to answer next, before applying anything; an empty list means "accept". */
  script: Array<SendResult | "network"> = [];

  send = async (entry: OutboxEntry): Promise<SendResult> => {
    const next = this.script.shift();
    if (next === "network") return { outcome: "retry", reason: "network" };
    this.received.push(entry);
    if (next) return next;
    this.onHand += (entry.request.body as { delta: number }).delta;
    return { outcome: "sent", status: 201, body: { level: { on_hand: this.onHand } } };
  };
}

let clock = 1_000_000;
let ids = 0;
const options = () => ({ now: () => clock, newId: () => `key-${++ids}` });

beforeEach(() => {
  clock = 1_000_000;
  ids = 0;
  // A fresh, empty IndexedDB for every test.
  globalThis.indexedDB = new IDBFactory();
});

afterEach(async () => {
  await closeDatabase();
});

describe("the outbox", () => {
  it("keeps an action taken offline pending, then sends it exactly once when the network returns", async () => {
    const outbox = new Outbox(options());
    const server = new FakeServer();
    const queued = await outbox.enqueue(adjustment(3));
    expect(queued.status).toBe("pending");

    server.script = ["network"];
    const offline = await outbox.flush(server.send, { owner: MANAGER });
    expect(offline.waiting).toBe("network");
    expect((await outbox.get(queued.id))?.status).toBe("pending");
    expect(server.onHand).toBe(10);

    const back = await outbox.flush(server.send, { owner: MANAGER, force: true });
    expect(back.sent.map((e) => e.id)).toEqual([queued.id]);
    await outbox.flush(server.send, { owner: MANAGER, force: true });
    await outbox.flush(server.send, { owner: MANAGER, force: true });

    expect(server.onHand).toBe(13);
    expect(server.received).toHaveLength(1);
    const sent = await outbox.get(queued.id);
    expect(sent?.status).toBe("sent");
    expect(sent?.response).toEqual({ level: { on_hand: 13 } });
  });

  it("survives a reload: actions kept in IndexedDB are sent by the next page", async () => {
    const first = new Outbox(options());
    const queued = await first.enqueue(adjustment(2));
    await closeDatabase(); // the page is closed

    const server = new FakeServer();
    const next = new Outbox(options());
    expect((await next.list()).map((e) => e.id)).toEqual([queued.id]);
    await next.flush(server.send, { owner: MANAGER, force: true });
    expect(server.onHand).toBe(12);
  });

  it("sends actions in the order they were taken, and a waiting one holds back the later ones", async () => {
    const outbox = new Outbox(options());
    const server = new FakeServer();
    const a = await outbox.enqueue(adjustment(1, "A"));
    clock += 10;
    const b = await outbox.enqueue(adjustment(1, "B"));
    clock += 10;
    const c = await outbox.enqueue(adjustment(1, "C"));

    server.script = [{ outcome: "sent", status: 201, body: null }, "network"];
    const report = await outbox.flush(server.send, { owner: MANAGER });
    expect(report.sent.map((e) => e.id)).toEqual([a.id]);
    expect((await outbox.get(c.id))?.attempts).toBe(0); // never tried before B

    await outbox.flush(server.send, { owner: MANAGER, force: true });
    expect(server.received.map((e) => e.subject)).toEqual(["A", "B", "C"]);
    expect((await outbox.list()).map((e) => e.status)).toEqual(["sent", "sent", "sent"]);
    expect(b.id).not.toBe(c.id);
  });

  it("marks a refused action failed with the server's reason, and still sends the next ones", async () => {
    const outbox = new Outbox(options());
    const server = new FakeServer();
    const refused = await outbox.enqueue(adjustment(-50));
    clock += 1;
    const next = await outbox.enqueue(adjustment(1));
    server.script = [
      {
        outcome: "refused",
        status: 409,
        problem: { status: 409, code: "negative_stock", detail: "On hand is 10; removing 50 would make it negative." },
      },
    ];

    const report = await outbox.flush(server.send, { owner: MANAGER, force: true });

    expect(report.failed.map((e) => e.id)).toEqual([refused.id]);
    const failed = await outbox.get(refused.id);
    expect(failed?.status).toBe("failed");
    expect(failed?.httpStatus).toBe(409);
    expect(failed?.problem?.detail).toBe("On hand is 10; removing 50 would make it negative.");
    expect((await outbox.get(next.id))?.status).toBe("sent");
    // A refusal is final: it is not sent again.
    await outbox.flush(server.send, { owner: MANAGER, force: true });
    expect(server.received.filter((e) => e.id === refused.id)).toHaveLength(1);
  });

  it("retries a busy or failing server after a growing delay, never marking the action failed", async () => {
    const outbox = new Outbox(options());
    const server = new FakeServer();
    const queued = await outbox.enqueue(adjustment(4));
    server.script = [{ outcome: "retry", reason: "server", status: 503 }];

    await outbox.flush(server.send, { owner: MANAGER });
    const waiting = await outbox.get(queued.id);
    expect(waiting?.status).toBe("pending");
    expect(waiting?.waitingFor).toBe("server");
    expect(waiting?.nextAttemptAt).toBe(clock + retryDelay(1));

    clock += retryDelay(1) - 1;
    const early = await outbox.flush(server.send, { owner: MANAGER });
    expect(early.sent).toHaveLength(0);
    expect(server.received).toHaveLength(1);

    clock += 1;
    const due = await outbox.flush(server.send, { owner: MANAGER });
    expect(due.sent.map((e) => e.id)).toEqual([queued.id]);
    expect(server.onHand).toBe(14);
  });

  it("waits for the person's session rather than failing when the server asks to sign in", async () => {
    const outbox = new Outbox(options());
    const server = new FakeServer();
    const queued = await outbox.enqueue(adjustment(1));
    server.script = [{ outcome: "retry", reason: "session", status: 401 }];

    const report = await outbox.flush(server.send, { owner: MANAGER });

    expect(report.waiting).toBe("session");
    expect((await outbox.get(queued.id))?.status).toBe("pending");
  });

  it("sends only the actions of the person signed in; someone else's wait for them", async () => {
    const outbox = new Outbox(options());
    const server = new FakeServer();
    const theirs = await outbox.enqueue({ ...adjustment(5), owner: "staff-associate" });
    const mine = await outbox.enqueue(adjustment(1));

    await outbox.flush(server.send, { owner: MANAGER, force: true });

    expect(server.received.map((e) => e.id)).toEqual([mine.id]);
    expect((await outbox.get(theirs.id))?.status).toBe("pending");
  });

  it("sends again, under the same key, an action whose answer was lost when the page closed", async () => {
    const outbox = new Outbox(options());
    const queued = await outbox.enqueue(adjustment(1));
    // A page that died mid-request left the action "sending".
    let stuck: OutboxEntry | undefined;
    await outbox.flush(
      async (entry) => {
        stuck = entry;
        throw new Error("page closed");
      },
      { owner: MANAGER, force: true },
    ).catch(() => undefined);
    expect((await outbox.get(queued.id))?.status).toBe("sending");

    const server = new FakeServer();
    await new Outbox(options()).flush(server.send, { owner: MANAGER });

    expect(server.received.map((e) => e.id)).toEqual([stuck?.id]);
    expect(server.received[0]?.attempts).toBe(2);
    expect((await outbox.get(queued.id))?.status).toBe("sent");
  });

  it("never sends one action twice when sends are asked for at the same time", async () => {
    const outbox = new Outbox(options());
    const server = new FakeServer();
    await outbox.enqueue(adjustment(3));

    await Promise.all([
      outbox.flush(server.send, { owner: MANAGER, force: true }),
      outbox.flush(server.send, { owner: MANAGER, force: true }),
      outbox.flush(server.send, { owner: MANAGER, force: true }),
    ]);

    expect(server.received).toHaveLength(1);
    expect(server.onHand).toBe(13);
  });

  it("never drops a pending or refused action; forgets sent ones after a day", async () => {
    const outbox = new Outbox(options());
    const server = new FakeServer();
    const sent = await outbox.enqueue(adjustment(1));
    await outbox.flush(server.send, { owner: MANAGER, force: true });
    clock += 1;
    const refused = await outbox.enqueue(adjustment(-99));
    server.script = [{ outcome: "refused", status: 409, problem: null }];
    await outbox.flush(server.send, { owner: MANAGER, force: true });
    clock += 1;
    const pending = await outbox.enqueue(adjustment(2));

    expect(await outbox.dismiss(pending.id)).toBe(false);
    clock += SENT_KEPT_MS + 1;
    expect(await outbox.prune()).toBe(1);
    expect((await outbox.list()).map((e) => e.id)).toEqual([refused.id, pending.id]);

    expect(await outbox.dismiss(refused.id)).toBe(true);
    expect((await outbox.list()).map((e) => e.id)).toEqual([pending.id]);
    expect(sent.id).not.toBe(pending.id);
  });
});

describe("classifyResponse", () => {
  it("accepts any 2xx", () => {
    expect(classifyResponse(201, { ok: true }).outcome).toBe("sent");
  });

  it("treats a 4xx refusal as final, keeping the problem", () => {
    const result = classifyResponse(412, { code: "stale_version", detail: "The order changed." });
    expect(result).toEqual({
      outcome: "refused",
      status: 412,
      problem: { code: "stale_version", detail: "The order changed." },
    });
  });

  it("waits and retries on an expired session, a stale CSRF token, throttling and server errors", () => {
    expect(classifyResponse(401, null)).toMatchObject({ outcome: "retry", reason: "session" });
    expect(classifyResponse(403, { code: "csrf_failed", detail: "x" })).toMatchObject({ reason: "session" });
    expect(classifyResponse(429, null)).toMatchObject({ outcome: "retry", reason: "busy" });
    expect(classifyResponse(409, { code: "idempotency_key_in_use", detail: "x" })).toMatchObject({ reason: "busy" });
    expect(classifyResponse(503, null)).toMatchObject({ outcome: "retry", reason: "server" });
  });

  it("refuses a 403 that is about the role, not the session", () => {
    expect(classifyResponse(403, { code: "other_location", detail: "Not your store." }).outcome).toBe("refused");
  });
});

describe("sendOverHttp", () => {
  const entry: OutboxEntry = {
    id: "0b6c2f1e-key",
    owner: MANAGER,
    kind: "stock.adjust",
    subject: "TEE",
    params: {},
    request: { method: "POST", url: "/api/inventory/adjustments", body: { delta: 1 } },
    status: "sending",
    createdAt: 0,
    attempts: 1,
    nextAttemptAt: 0,
  };

  it("sends the Idempotency-Key, the CSRF token and the JSON body", async () => {
    let seen: { url: string; init: RequestInit } | undefined;
    const fetcher = (async (url: string, init: RequestInit) => {
      seen = { url, init };
      return new Response(JSON.stringify({ level: { on_hand: 4 } }), { status: 201 });
    }) as unknown as typeof fetch;

    const result = await sendOverHttp(entry, "csrf-123", fetcher);

    expect(result).toEqual({ outcome: "sent", status: 201, body: { level: { on_hand: 4 } } });
    const headers = seen?.init.headers as Record<string, string>;
    expect(seen?.url).toBe("/api/inventory/adjustments");
    expect(headers["Idempotency-Key"]).toBe("0b6c2f1e-key");
    expect(headers["X-CSRF-Token"]).toBe("csrf-123");
    expect(seen?.init.body).toBe('{"delta":1}');
  });

  it("turns a lost connection into a wait for the network", async () => {
    const fetcher = (async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof fetch;
    expect(await sendOverHttp(entry, null, fetcher)).toEqual({ outcome: "retry", reason: "network" });
  });

  it("reads the server's problem from a refusal", async () => {
    const fetcher = (async () =>
      new Response(JSON.stringify({ code: "reason_required", detail: "Say why the stock changes." }), {
        status: 422,
        headers: { "content-type": "application/problem+json" },
      })) as unknown as typeof fetch;
    expect(await sendOverHttp(entry, null, fetcher)).toMatchObject({
      outcome: "refused",
      status: 422,
      problem: { detail: "Say why the stock changes." },
    });
  });
});
