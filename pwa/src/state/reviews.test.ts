import "fake-indexeddb/auto";

import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import type { OutboxEntry } from "../offline/outbox";
import type { FraudReview } from "../screens/reviews/reviews";

const ORIGIN = "https://shop.example";
const ME = { kind: "staff", id: "7", name: "camille", role: "manager", location: null, channel: null, csrf_token: "c" };

/** The server as the test scripts it: one answer per request, in order (a throw: no network). */
const answers: Array<() => Response> = [];
const asked: Array<{ path: string; language: string | null }> = [];

function page(items: FraudReview[], next_cursor: string | null = null): () => Response {
  return () => new Response(JSON.stringify({ items, next_cursor }), { status: 200, headers: { "content-type": "application/json" } });
}
const offline = (): Response => {
  throw new TypeError("Failed to fetch");
};

function review(number: string, minute: number): FraudReview {
  return {
    number,
    created_at: `2026-12-03T10:${String(minute).padStart(2, "0")}:00Z`,
    total: 24900,
    currency: "EUR",
    channel: "web",
    customer_name: "Client Douteux",
    customer_email: "douteux@fraude.example",
    score: 90,
    threshold: 50,
    reasons: [{ code: "watched_email_domain", points: 60, text: "Domaine d'e-mail surveillé : fraude.example" }],
    history: { orders: 0, total_spent: 0, first_order_at: null, cancelled: 0 },
  };
}

function decision(subject: string, status: OutboxEntry["status"], kind = "order.approve"): OutboxEntry {
  return {
    id: `${kind}-${subject}`,
    owner: ME.id,
    kind,
    subject,
    params: { number: subject },
    request: { method: "POST", url: `/api/orders/${subject}/approve` },
    status,
    createdAt: Date.now(),
    attempts: 0,
    nextAttemptAt: 0,
    sentAt: status === "sent" ? Date.now() + 1 : undefined,
  };
}

type Reviews = typeof import("./reviews");
let reviews: Reviews;
let outboxEntries: typeof import("./outbox").outboxEntries;

beforeAll(async () => {
  const target = new EventTarget();
  vi.stubGlobal("window", Object.assign(target, { setTimeout, clearTimeout }));
  vi.stubGlobal("navigator", { onLine: true, languages: ["fr-FR"] });
  vi.stubGlobal("location", { protocol: "https:", host: "shop.example", pathname: "/reviews" });
  vi.stubGlobal("localStorage", { getItem: () => null, setItem: () => undefined });
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
    asked.push({ path: new URL(request.url).pathname, language: request.headers.get("accept-language") });
    const answer = answers.shift();
    if (!answer) throw new TypeError("no answer scripted");
    return answer();
  });
  const session = await import("./session");
  session.session.value = { status: "signed-in", me: ME };
  outboxEntries = (await import("./outbox")).outboxEntries;
  reviews = await import("./reviews");
});

beforeEach(() => {
  answers.length = 0;
  asked.length = 0;
  outboxEntries.value = [];
});

const shown = () => reviews.reviewCards.value.map((r) => r.number);

describe("the review queue", () => {
  it("reads its first page in the app's language and counts it on the navigation", async () => {
    answers.push(page([review("A-2", 2), review("A-1", 1)]));
    await reviews.loadReviews();
    expect(asked).toEqual([{ path: "/api/reviews/fraud", language: "fr" }]);
    expect(shown()).toEqual(["A-2", "A-1"]);
    expect(reviews.reviewBadge.value).toBe("2");
  });

  it("after a live event, shows the order held meanwhile and drops the one decided elsewhere", async () => {
    answers.push(page([review("A-2", 2), review("A-1", 1)]));
    await reviews.loadReviews();
    answers.push(page([review("A-3", 3), review("A-1", 1)]));
    await reviews.refreshReviews();
    expect(shown()).toEqual(["A-3", "A-1"]);
  });

  it("hides at once an order decided on this phone, sent or waiting for the network", async () => {
    answers.push(page([review("A-3", 3), review("A-2", 2), review("A-1", 1)]));
    await reviews.loadReviews();
    outboxEntries.value = [decision("A-3", "pending"), decision("A-2", "sent", "order.reject")];
    expect(shown()).toEqual(["A-1"]);
    expect(reviews.reviewBadge.value).toBe("1");
    // A refused decision gives the card back (its refusal is shown with it).
    outboxEntries.value = [decision("A-3", "failed")];
    expect(shown()).toEqual(["A-3", "A-2", "A-1"]);
  });

  it("without network, shows the queue this phone saw last, marked as such", async () => {
    answers.push(page([review("A-2", 2), review("A-1", 1)]));
    await reviews.loadReviews();
    await new Promise((resolve) => setTimeout(resolve, 20)); // kept in IndexedDB
    answers.push(offline);
    await reviews.loadReviews();
    expect(shown()).toEqual(["A-2", "A-1"]);
    expect(reviews.reviewQueue.value?.savedAt).not.toBeNull();
    expect(reviews.reviewFailure.value).toBeNull();
  });

  it("takes out the card of a decision the server accepted", async () => {
    answers.push(page([review("A-2", 2), review("A-1", 1)]));
    await reviews.loadReviews();
    reviews.dropReview("A-2");
    expect(shown()).toEqual(["A-1"]);
  });
});
