/**
 * The outbox in the app: the list as a signal, actions queued by screens, and sending them
 * when the app starts, when the network returns, and every little while until they go.
 */
import { computed, effect, signal } from "@preact/signals";

import { currentCsrfToken } from "../api/client";
import { Outbox, type NewAction, type OutboxEntry } from "../offline/outbox";
import { sendOverHttp } from "../offline/send";
import { serverReachable } from "./network";
import { me, restoreSession, session, sessionConfirmed } from "./session";

const RETRY_EVERY_MS = 15_000;
const LOCK_NAME = "comptoir-outbox";

/** One tab sends at a time: two tabs sending the same action would apply it twice. */
function acrossTabs<T>(work: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return work();
  return locks.request(LOCK_NAME, () => work()) as Promise<T>;
}

export const outbox = new Outbox({ exclusive: acrossTabs });

/** Every kept action, oldest first: this person's and any left by someone else. */
export const outboxEntries = signal<OutboxEntry[]>([]);

/** The signed-in person's actions not yet accepted by the server. */
export const waitingActions = computed<OutboxEntry[]>(() => {
  const who = me.value;
  return outboxEntries.value.filter(
    (e) => e.owner === who?.id && (e.status === "pending" || e.status === "sending"),
  );
});

/** The signed-in person's refused actions, until they clear them. */
export const refusedActions = computed<OutboxEntry[]>(() => {
  const who = me.value;
  return outboxEntries.value.filter((e) => e.owner === who?.id && e.status === "failed");
});

// Other tabs of the app learn that the list changed.
const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(LOCK_NAME) : null;

export async function refreshOutbox(options: { tellOthers?: boolean } = {}): Promise<void> {
  try {
    outboxEntries.value = await outbox.list();
  } catch {
    return; // no storage: nothing was kept either
  }
  if (options.tellOthers) channel?.postMessage("changed");
}

/**
 * Send this person's queued actions. While the session is only remembered (opened offline),
 * first ask the server again: its answer confirms the session, which sends them.
 */
export async function sendQueued(options: { force?: boolean } = {}): Promise<void> {
  const who = me.value;
  if (!who) return;
  if (!sessionConfirmed.value) {
    await restoreSession({ quiet: true });
    return;
  }
  const report = await outbox.flush((entry) => sendOverHttp(entry, currentCsrfToken()), {
    owner: who.id,
    force: options.force,
  });
  if (report.sent.length || report.failed.length) serverReachable.value = true;
  if (report.waiting === "network") serverReachable.value = false;
  await refreshOutbox({ tellOthers: true });
  // The session ended or its CSRF token is stale: ask the server again (a new token, or the
  // sign-in screen); the actions wait for the same person to be signed in.
  if (report.waiting === "session") await restoreSession({ quiet: true });
}

/** How long a screen waits for the first try before saying the action waits to be sent. */
const FIRST_TRY_WAIT_MS = 8_000;

/**
 * Queue an action for the signed-in person and try to send it at once. Resolves with the
 * action as it stands after that try, or after a few seconds of a network that neither
 * answers nor fails: sent, failed (refused), or pending (it goes on in the background).
 */
export async function queueAction(action: Omit<NewAction, "owner">): Promise<OutboxEntry> {
  const who = me.value;
  if (!who) throw new Error("nobody is signed in");
  const entry = await outbox.enqueue({ ...action, owner: who.id });
  await refreshOutbox({ tellOthers: true });
  await Promise.race([
    sendQueued({ force: true }),
    new Promise((resolve) => setTimeout(resolve, FIRST_TRY_WAIT_MS)),
  ]);
  const now = (await outbox.get(entry.id)) ?? entry;
  // Still on its way: to the screen, it is waiting like any other queued action.
  return now.status === "sending" ? { ...now, status: "pending" } : now;
}

/** Clear a sent or refused action from the list (a pending one cannot be cleared). */
export async function dismissAction(id: string): Promise<void> {
  await outbox.dismiss(id);
  await refreshOutbox({ tellOthers: true });
}

let started = false;

/** Start sending by itself: on app start, when the network returns, every few seconds. */
export function startOutbox(): void {
  if (started) return;
  started = true;
  void outbox
    .prune()
    .catch(() => 0)
    .then(() => refreshOutbox());
  channel?.addEventListener("message", () => void refreshOutbox());
  // A confirmed session (app start, sign-in, back online) sends what waited for it.
  effect(() => {
    // Only the confirmation is watched; the send itself runs outside the effect.
    if (sessionConfirmed.value) queueMicrotask(() => void sendQueued({ force: true }));
  });
  window.addEventListener("online", () => void sendQueued({ force: true }));
  setInterval(() => {
    if (!navigator.onLine || session.value.status !== "signed-in") return;
    if (!sessionConfirmed.value || waitingActions.value.length) void sendQueued();
  }, RETRY_EVERY_MS);
}
