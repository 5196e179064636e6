/** The typed API client (generated types in ./schema.d.ts) and the session's CSRF token. */
import createClient, { type Middleware } from "openapi-fetch";

import { locale } from "../i18n";
import { serverReachable } from "../state/network";
import { ApiError, isProblem, NetworkError } from "./problem";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Me = Schemas["MeOut"];
export type Location = Schemas["LocationOut"];

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// Kept in memory only: a page reload gets it again from GET /api/auth/me.
let csrfToken: string | null = null;

export function setCsrfToken(token: string | null | undefined): void {
  csrfToken = token ?? null;
}

/** The session's CSRF token, for requests sent outside this client (the outbox). */
export function currentCsrfToken(): string | null {
  return csrfToken;
}

const sendCsrfToken: Middleware = {
  onRequest({ request }) {
    if (csrfToken && UNSAFE_METHODS.has(request.method)) {
      request.headers.set("X-CSRF-Token", csrfToken);
    }
    return request;
  },
};

// Sentences the server writes (a fraud rule's reason) come in the language chosen in the app,
// which may not be the browser's.
const sendLanguage: Middleware = {
  onRequest({ request }) {
    request.headers.set("Accept-Language", locale.value);
    return request;
  },
};

/** Same origin: the server that serves the app also serves /api. */
export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(sendCsrfToken);
api.use(sendLanguage);

interface ClientResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Await an `api.GET/POST…` call: its data, or an ApiError / NetworkError to describe. */
export async function unwrap<T>(call: Promise<ClientResult<T>>): Promise<T> {
  let result: ClientResult<T>;
  try {
    result = await call;
  } catch (cause) {
    serverReachable.value = false;
    throw new NetworkError(cause);
  }
  serverReachable.value = true;
  if (!result.response.ok) {
    throw new ApiError(result.response.status, isProblem(result.error) ? result.error : null);
  }
  return result.data as T;
}
