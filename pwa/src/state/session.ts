/** Who is signed in: restored at start (GET /api/auth/me), changed by sign-in and sign-out. */
import { computed, signal } from "@preact/signals";

import { api, setCsrfToken, unwrap, type Me } from "../api/client";
import { ApiError } from "../api/problem";
import { forgetAll, recall, remember } from "../offline/cache";

export type Session =
  | { status: "checking" }
  | { status: "unreachable"; error: unknown }
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

/** True once the server has confirmed the session (not merely restored from this phone). */
export const sessionConfirmed = computed<boolean>(
  () => session.value.status === "signed-in" && !session.value.offline,
);

function signedIn(who: Me): void {
  setCsrfToken(who.csrf_token);
  session.value = { status: "signed-in", me: who };
  void remember(KEPT_SESSION, { ...who, csrf_token: null });
}

function signedOut(): void {
  setCsrfToken(null);
  session.value = { status: "signed-out" };
  // What this person saw is not left for the next one; their queued actions stay, to be
  // sent when they sign in again (src/state/outbox.ts).
  void forgetAll();
  for (const listener of signedOutListeners) listener();
}

// A session that expires on the server (or is signed out elsewhere) shows the sign-in screen.
api.use({
  onResponse({ request, response }) {
    if (
      response.status === 401 &&
      session.value.status === "signed-in" &&
      !new URL(request.url).pathname.startsWith("/api/auth/login")
    ) {
      signedOut();
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
  if (current.status === "unreachable") void restoreSession();
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
