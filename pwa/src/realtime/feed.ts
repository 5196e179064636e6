/**
 * The live feed: one websocket for the whole app, shared by every screen that follows a topic.
 * It resumes after the last event seen (`since`), reconnecting with backoff when it drops.
 */
import { signal } from "@preact/signals";

import { onSignedOut, restoreSession, sessionStoreAway } from "../state/session";

export interface LiveEvent {
  seq: number;
  topic: string;
  /** Every topic of this connection the event belongs to (the server sends each event once). */
  topics?: string[];
  type: string;
  data: Record<string, unknown>;
  at: string;
}

type Listener = (event: LiveEvent) => void;

/** "live" once subscribed; "connecting" while (re)connecting; "off" when nobody follows. */
export const feedState = signal<"off" | "connecting" | "live">("off");
/**
 * Grows each time the feed comes back after it was down (a dropped or refused connection):
 * screens reload what they may have missed meanwhile. Opening the feed, or following one
 * more topic, does not count: the screen has just read its data.
 */
export const feedGeneration = signal(0);

const listeners = new Map<string, Set<Listener>>();
let socket: WebSocket | null = null;
let lastSeq: number | null = null;
let retryMs = 1_000;
let retryTimer: number | undefined;
/** A connection dropped (or failed) while screens followed topics: its events may be missed. */
let dropped = false;
/** This socket's first "subscribed" has come. */
let connectionLive = false;
const MAX_RETRY_MS = 30_000;
/** Close code 1013, "try again later": the server cannot check sessions for a moment. */
const TRY_AGAIN_LATER = 1013;
const TRY_AGAIN_LATER_MAX_RETRY_MS = 4_000;
/**
 * A topic nobody follows any more is kept this long: going from one screen to another that
 * follows the same topic (dashboard → orders) neither unsubscribes nor reconnects.
 */
export const LINGER_MS = 10_000;
const lingering = new Map<string, number>();

/** Backoff: 1 s, 2 s, 4 s… up to 30 s, with some jitter so phones do not all come back at once. */
export function nextDelay(current: number): number {
  return Math.min(MAX_RETRY_MS, current * 2);
}

function feedUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

function send(message: object): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function connect(): void {
  window.clearTimeout(retryTimer);
  if (socket || listeners.size === 0) return;
  feedState.value = "connecting";
  const ws = new WebSocket(feedUrl());
  socket = ws;
  connectionLive = false;
  ws.onopen = () => {
    send({ subscribe: [...listeners.keys()], since: lastSeq });
  };
  ws.onmessage = (message) => {
    let parsed: { type?: string; seq?: number; topic?: string } & Record<string, unknown>;
    try {
      parsed = JSON.parse(String(message.data));
    } catch {
      return;
    }
    if (parsed.type === "subscribed") {
      if (typeof parsed.seq === "number" && (lastSeq === null || parsed.seq > lastSeq)) lastSeq = parsed.seq;
      retryMs = 1_000;
      feedState.value = "live";
      if (!connectionLive) {
        connectionLive = true;
        if (dropped) feedGeneration.value += 1;
        dropped = false;
      }
      return;
    }
    if (typeof parsed.seq !== "number" || typeof parsed.topic !== "string") return; // ping, error…
    if (lastSeq !== null && parsed.seq <= lastSeq) return; // already seen before a resume
    lastSeq = parsed.seq;
    const event = parsed as unknown as LiveEvent;
    const delivered = new Set<Listener>();
    for (const topic of event.topics ?? [event.topic]) {
      for (const listener of listeners.get(topic) ?? []) {
        if (!delivered.has(listener)) {
          delivered.add(listener);
          listener(event);
        }
      }
    }
  };
  ws.onclose = (close) => {
    if (socket !== ws) return;
    socket = null;
    if (close?.code === 4401) {
      // Not signed in, or this session was signed out (on another tab, say): retrying would
      // only be refused again. Asking who is signed in shows the sign-in screen if need be.
      feedState.value = "off";
      void restoreSession({ quiet: true });
      return;
    }
    if (close?.code === TRY_AGAIN_LATER) {
      // The server cannot check the session for now (not a sign-out): the app says it is
      // reconnecting, and the feed comes back soon after the server does.
      sessionStoreAway();
      retryMs = Math.min(retryMs, TRY_AGAIN_LATER_MAX_RETRY_MS);
    }
    if (listeners.size === 0) {
      feedState.value = "off";
      return;
    }
    dropped = true;
    feedState.value = "connecting";
    const wait = retryMs * (0.75 + Math.random() / 2);
    retryMs = nextDelay(retryMs);
    retryTimer = window.setTimeout(connect, wait);
  };
}

/** Follow `topic`; returns the function that stops following it. */
export function follow(topic: string, listener: Listener): () => void {
  let set = listeners.get(topic);
  const isNew = !set;
  if (!set) listeners.set(topic, (set = new Set()));
  set.add(listener);
  window.clearTimeout(lingering.get(topic));
  lingering.delete(topic);
  if (!socket) connect();
  else if (isNew) send({ subscribe: [topic] });
  return () => {
    const current = listeners.get(topic);
    if (!current?.delete(listener) || current.size > 0) return;
    window.clearTimeout(lingering.get(topic));
    lingering.set(topic, window.setTimeout(() => forget(topic), LINGER_MS));
  };
}

/** Nobody has followed `topic` for a while: stop receiving it (and close an idle feed). */
function forget(topic: string): void {
  lingering.delete(topic);
  if (listeners.get(topic)?.size !== 0) return;
  listeners.delete(topic);
  send({ unsubscribe: [topic] });
  if (listeners.size === 0) {
    window.clearTimeout(retryTimer);
    const ws = socket;
    socket = null;
    feedState.value = "off";
    dropped = false;
    ws?.close(1000);
  }
}

/** Sign-out: forget where the feed was and close it. */
export function resetFeed(): void {
  lastSeq = null;
  listeners.clear();
  for (const timer of lingering.values()) window.clearTimeout(timer);
  lingering.clear();
  dropped = false;
  window.clearTimeout(retryTimer);
  const ws = socket;
  socket = null;
  feedState.value = "off";
  ws?.close(1000);
}

// The next person on this phone starts from nothing, under their own session.
onSignedOut(resetFeed);

// The network came back: try now rather than at the end of the backoff.
if (typeof window !== "undefined") {
  window.addEventListener("online", () => {
    retryMs = 1_000;
    if (!socket && listeners.size) connect();
  });
}
