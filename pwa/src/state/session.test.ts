import "fake-indexeddb/auto";

import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

const ORIGIN = "https://shop.example";
const ME = {
  kind: "staff",
  id: "7",
  name: "manager1",
  role: "manager",
  location: null,
  channel: null,
  csrf_token: "csrf-1",
};

/** The server as the test scripts it: one answer per request, in order. */
const answers: Array<() => Response> = [];
const asked: string[] = [];

function json(status: number, body: object, headers: Record<string, string> = {}): () => Response {
  return () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

const sessionStoreAway = json(
  503,
  { status: 503, code: "session_store_unavailable", detail: "Sessions are unavailable for a moment." },
  { "content-type": "application/problem+json", "retry-after": "2" },
);

type Session = typeof import("./session");
let session: Session;
let api: typeof import("../api/client").api;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  const target = new EventTarget();
  vi.stubGlobal("window", Object.assign(target, { setTimeout, clearTimeout }));
  vi.stubGlobal("navigator", { onLine: true, languages: ["fr-FR"] });
  vi.stubGlobal("location", { protocol: "https:", host: "shop.example", pathname: "/" });
  vi.stubGlobal("localStorage", { getItem: () => null, setItem: () => undefined });
  // The app's requests are relative ("/api/…"), as in a page served by Comptoir.
  const NodeRequest = globalThis.Request;
  vi.stubGlobal(
    "Request",
    class extends NodeRequest {
      constructor(input: RequestInfo | URL, init?: RequestInit) {
        super(typeof input === "string" && input.startsWith("/") ? ORIGIN + input : input, init);
      }
    },
  );
  vi.stubGlobal("fetch", async (request: Request) => {
    asked.push(new URL(request.url).pathname);
    const answer = answers.shift();
    if (!answer) throw new TypeError("no answer scripted");
    return answer();
  });
  session = await import("./session");
  api = (await import("../api/client")).api;
});

afterEach(() => {
  answers.length = 0;
  asked.length = 0;
});

describe("the session while the server cannot check sessions", () => {
  it("opens on 'reconnecting', not the sign-in screen, and signs in by itself once the server answers", async () => {
    answers.push(sessionStoreAway);
    await session.restoreSession();
    expect(session.session.value.status).toBe("reconnecting");
    expect(session.reconnecting.value).toBe(true);

    answers.push(sessionStoreAway); // still away at the first retry (after Retry-After)
    await vi.advanceTimersByTimeAsync(2_000);
    expect(asked).toEqual(["/api/auth/me", "/api/auth/me"]);
    expect(session.session.value.status).toBe("reconnecting");

    answers.push(json(200, ME)); // back: asked again later, by itself
    await vi.advanceTimersByTimeAsync(30_000);
    expect(asked).toHaveLength(3);
    expect(session.session.value).toMatchObject({ status: "signed-in", me: { name: "manager1" } });
    expect(session.reconnecting.value).toBe(false);
  });

  it("keeps whoever is signed in on screen, says 'reconnecting', then carries on", async () => {
    answers.push(json(200, ME));
    await session.restoreSession();
    expect(session.session.value.status).toBe("signed-in");

    answers.push(sessionStoreAway);
    const refused = await api.GET("/api/auth/me");
    expect(refused.response.status).toBe(503);
    expect(session.session.value.status).toBe("signed-in"); // not signed out
    expect(session.reconnecting.value).toBe(true);

    answers.push(json(200, ME));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(session.reconnecting.value).toBe(false);
    expect(session.session.value.status).toBe("signed-in");
  });

  it("shows the sign-in screen when the server comes back without the session", async () => {
    answers.push(json(200, ME));
    await session.restoreSession();
    answers.push(sessionStoreAway);
    await api.GET("/api/auth/me");
    expect(session.reconnecting.value).toBe(true);

    // Redis restarted empty: the session is gone, and now the server can say so.
    answers.push(json(401, { status: 401, code: "not_authenticated", detail: "Not signed in." }));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(session.session.value.status).toBe("signed-out");
    expect(session.reconnecting.value).toBe(false);
  });
});
