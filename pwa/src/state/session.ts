/** Who is signed in: restored at start (GET /api/auth/me), changed by sign-in and sign-out. */
import { computed, signal } from "@preact/signals";

import { api, setCsrfToken, unwrap, type Me } from "../api/client";
import { ApiError, isProblem } from "../api/problem";
import { forgetAll, recall, remember } from "../offline/cache";

export type Session =
  | { status: "checking" }
  | { status: "unreachable"; error: unknown }
  /** The server cannot check sessions for a moment (503 `session_store_unavailable`). */
  | { status: "reconnecting" }
  | { status: "signed-out" }
  /** `offline`: opened without network from what this phone kept; not yet confirmed. */
  | { status: "signed-in"; me: Me; offline?: boolean };

// Who was signed in, kept (without the CSRF token) so the app opens offline as them.
const KEPT_SESSION = "session.me";

export const session = signal<Session>({ status: "checking" });

/** The signed-in staff member, or null. */
export const me = computed<Me | null>(() =>
  session.value.status === "signed-in" ? session.value.me : null,
);

const signedOutListeners: Array<() => void> = [];

/** Run `listener` whenever the session ends, to forget what the last person saw. */
export function onSignedOut(listener: () => void): void {
  signedOutListeners.push(listener);
}

/**
 * The server cannot check sessions for now (its session store is away): whoever is signed in
 * stays on screen, told the app is reconnecting, while it asks again by itself.
 */
export const reconnecting = signal(false);

/** True once the server has confirmed the session (not merely restored from this phone). */
export const sessionConfirmed = computed<boolean>(
  () => session.value.status === "signed-in" && !session.value.offline,
);

function signedIn(who: Me): void {
  stopReconnecting();
  setCsrfToken(who.csrf_token);
  session.value = { status: "signed-in", me: who };
  void remember(KEPT_SESSION, { ...who, csrf_token: null });
}

function signedOut(): void {
  stopReconnecting();
  setCsrfToken(null);
  session.value = { status: "signed-out" };
  // What this person saw is not left for the next one; their queued actions stay, to be
  // sent when they sign in again (src/state/outbox.ts).
  void forgetAll();
  for (const listener of signedOutListeners) listener();
}

const SESSION_STORE_UNAVAILABLE = "session_store_unavailable";
const RECHECK_FIRST_MS = 2_000;
const RECHECK_MAX_MS = 30_000;
let recheckMs = RECHECK_FIRST_MS;
let recheckTimer: ReturnType<typeof setTimeout> | undefined;

function stopReconnecting(): void {
  clearTimeout(recheckTimer);
  recheckTimer = undefined;
  recheckMs = RECHECK_FIRST_MS;
  reconnecting.value = false;
}

/**
 * The server said it cannot check sessions for now (a 503 `session_store_unavailable`, or the
 * live feed closed with 1013): not a sign-out. Say "reconnecting" and ask again by itself,
 * no sooner than `retryAfterSeconds`, then less and less often, until the server answers.
 */
export function sessionStoreAway(retryAfterSeconds?: number): void {
  reconnecting.value = true;
  const current = session.value.status;
  if (current === "checking" || current === "unreachable") session.value = { status: "reconnecting" };
  if (recheckTimer !== undefined) return; // already asking again
  const wait = Math.max(recheckMs, (retryAfterSeconds ?? 0) * 1000);
  recheckMs = Math.min(RECHECK_MAX_MS, recheckMs * 2);
  recheckTimer = setTimeout(() => {
    recheckTimer = undefined;
    void restoreSession({ quiet: true });
  }, wait);
}

function isSessionStoreAway(status: number, problem: unknown): boolean {
  return status === 503 && isProblem(problem) && problem.code === SESSION_STORE_UNAVAILABLE;
}

function retryAfter(response: Response): number | undefined {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

// A session that expires on the server (or is signed out elsewhere) shows the sign-in screen;
// a server that cannot check sessions for a moment shows "reconnecting" and asks again.
api.use({
  async onResponse({ request, response }) {
    if (
      response.status === 401 &&
      session.value.status === "signed-in" &&
      !new URL(request.url).pathname.startsWith("/api/auth/login")
    ) {
      signedOut();
    } else if (response.status === 503 && !new URL(request.url).pathname.startsWith("/api/auth/login")) {
      const problem: unknown = await response.clone().json().catch(() => null);
      if (isSessionStoreAway(response.status, problem)) sessionStoreAway(retryAfter(response));
    }
    return response;
  },
});

/**
 * Ask the server who is signed in. Without an answer (no network, server down), open as the
 * person this phone last saw signed in, marked offline; else say the server is unreachable.
 * `quiet` keeps the current screen while asking (a retry in the background).
 */
export async function restoreSession(options: { quiet?: boolean } = {}): Promise<void> {
  if (!options.quiet) session.value = { status: "checking" };
  try {
    const who = await unwrap(api.GET("/api/auth/me"));
    if (who.kind === "staff") signedIn(who);
    else signedOut();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      signedOut();
      return;
    }
    if (error instanceof ApiError && isSessionStoreAway(error.status, error.problem)) {
      return; // "reconnecting": the answer's own handler asks again later
    }
    if (reconnecting.value) {
      sessionStoreAway(); // no answer yet: still reconnecting, ask again a little later
      return;
    }
    const current = session.value;
    if (current.status === "signed-in") return; // keep working as who is already there
    const kept = await recall<Me>(KEPT_SESSION);
    if (kept) session.value = { status: "signed-in", me: kept.value, offline: true };
    else session.value = { status: "unreachable", error };
  }
}

// Opened without network: try again by itself as soon as the network is back.
window.addEventListener("online", () => {
  const current = session.value;
  if (current.status === "unreachable" || current.status === "reconnecting") {
    void restoreSession({ quiet: true });
  }
  else if (current.status === "signed-in" && current.offline) void restoreSession({ quiet: true });
});

/** Sign in; throws ApiError (wrong password, too many attempts…) or NetworkError. */
export async function signIn(username: string, password: string): Promise<void> {
  const who = await unwrap(api.POST("/api/auth/login", { body: { username, password } }));
  signedIn(who);
}

/** Sign out; a session the server had already ended counts as signed out. */
export async function signOut(): Promise<void> {
  try {
    await unwrap(api.POST("/api/auth/logout"));
  } catch (error) {
    // 401: the server had already ended it. Anything else (a refused CSRF token, no network)
    // leaves the session open on the server, so the person must know it did not work.
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  signedOut();
}
