import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

/** A websocket the test drives: it records what the app sends and delivers what the test says. */
class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  receive(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  close(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

type Feed = typeof import("./feed");
let feed: Feed;

beforeAll(async () => {
  vi.useFakeTimers();
  const target = new EventTarget();
  vi.stubGlobal("window", Object.assign(target, { setTimeout, clearTimeout, matchMedia: undefined }));
  vi.stubGlobal("navigator", { onLine: true, languages: ["fr-FR"] });
  vi.stubGlobal("location", { protocol: "https:", host: "shop.example", pathname: "/" });
  vi.stubGlobal("localStorage", { getItem: () => null, setItem: () => undefined });
  vi.stubGlobal("WebSocket", FakeSocket);
  feed = await import("./feed");
});

afterEach(() => {
  feed.resetFeed();
  FakeSocket.all = [];
});

const event = (seq: number, topic = "orders") => ({ seq, topic, type: "order.captured", data: {}, at: "2026-11-26T10:00:00Z" });

describe("the live feed", () => {
  it("opens one socket for every screen and subscribes to what they follow", () => {
    const seen: number[] = [];
    feed.follow("orders", (e) => seen.push(e.seq));
    feed.follow("order:CMP-1", (e) => seen.push(-e.seq));
    expect(FakeSocket.all).toHaveLength(1);
    const socket = FakeSocket.all[0]!;
    expect(socket.url).toBe("wss://shop.example/ws");
    socket.open();
    expect(socket.sent).toEqual([{ subscribe: ["orders", "order:CMP-1"], since: null }]);
    socket.receive({ type: "subscribed", topics: ["orders", "order:CMP-1"], seq: 10 });
    expect(feed.feedState.value).toBe("live");
    socket.receive(event(11));
    socket.receive(event(12, "order:CMP-1"));
    expect(seen).toEqual([11, -12]);
  });

  it("reconnects after a drop and resumes after the last event seen, without repeats", () => {
    const seen: number[] = [];
    feed.follow("orders", (e) => seen.push(e.seq));
    const first = FakeSocket.all[0]!;
    first.open();
    first.receive({ type: "subscribed", topics: ["orders"], seq: 4 });
    first.receive(event(5));
    first.close();
    expect(feed.feedState.value).toBe("connecting");
    vi.advanceTimersByTime(2_000);
    const second = FakeSocket.all[1]!;
    second.open();
    expect(second.sent).toEqual([{ subscribe: ["orders"], since: 5 }]);
    second.receive(event(5)); // already seen
    second.receive(event(6));
    expect(seen).toEqual([5, 6]);
  });

  it("waits longer after each failed try, up to half a minute", () => {
    expect(feed.nextDelay(1_000)).toBe(2_000);
    expect(feed.nextDelay(20_000)).toBe(30_000);
    expect(feed.nextDelay(30_000)).toBe(30_000);
  });

  it("closes the socket a while after no screen follows anything", () => {
    const stop = feed.follow("orders", () => undefined);
    FakeSocket.all[0]!.open();
    stop();
    expect(FakeSocket.all[0]!.readyState).toBe(1);
    vi.advanceTimersByTime(feed.LINGER_MS);
    expect(FakeSocket.all[0]!.sent).toContainEqual({ unsubscribe: ["orders"] });
    expect(FakeSocket.all[0]!.readyState).toBe(3);
    expect(feed.feedState.value).toBe("off");
  });

  it("keeps the topic when the next screen follows what the last one did", () => {
    const seen: number[] = [];
    const stop = feed.follow("orders", () => undefined);
    const socket = FakeSocket.all[0]!;
    socket.open();
    socket.receive({ type: "subscribed", topics: ["orders"], seq: 3 });
    stop(); // the dashboard closes…
    feed.follow("orders", (e) => seen.push(e.seq)); // …and the orders list opens
    vi.advanceTimersByTime(feed.LINGER_MS * 2);
    expect(FakeSocket.all).toHaveLength(1);
    expect(socket.sent).toEqual([{ subscribe: ["orders"], since: null }]);
    socket.receive(event(4));
    expect(seen).toEqual([4]);
  });

  it("asks screens to reload after the feed was down, not when it first opens", () => {
    const start = feed.feedGeneration.value;
    feed.follow("orders", () => undefined);
    const first = FakeSocket.all[0]!;
    first.open();
    first.receive({ type: "subscribed", topics: ["orders"], seq: 1 });
    feed.follow("order:CMP-1", () => undefined);
    first.receive({ type: "subscribed", topics: ["order:CMP-1", "orders"], seq: 1 });
    expect(feed.feedGeneration.value).toBe(start);
    first.close();
    vi.advanceTimersByTime(2_000);
    const second = FakeSocket.all[1]!;
    second.open();
    second.receive({ type: "subscribed", topics: ["order:CMP-1", "orders"], seq: 1 });
    expect(feed.feedGeneration.value).toBe(start + 1);
  });

  it("on 'try again later' (1013) says the app is reconnecting and keeps trying every few seconds", async () => {
    const { reconnecting, session } = await import("../state/session");
    feed.follow("orders", () => undefined);
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.receive({ type: "subscribed", topics: ["orders"], seq: 1 });
    for (let refusal = 1; refusal <= 6; refusal += 1) {
      FakeSocket.all.at(-1)!.close(1013); // the server cannot check the session for now
      expect(reconnecting.value).toBe(true);
      expect(session.value.status).not.toBe("signed-out");
      vi.advanceTimersByTime(5_000); // however many refusals came before
      expect(FakeSocket.all).toHaveLength(refusal + 1);
    }
    const back = FakeSocket.all.at(-1)!;
    back.open();
    expect(back.sent).toEqual([{ subscribe: ["orders"], since: 1 }]);
  });
});
