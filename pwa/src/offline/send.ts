/** Sending one queued action over HTTP, with its Idempotency-Key and the session's CSRF token. */
import { classifyResponse, type OutboxEntry, type SendResult } from "./outbox";

export async function sendOverHttp(
  entry: OutboxEntry,
  csrfToken: string | null,
  fetcher: typeof fetch = fetch,
): Promise<SendResult> {
  const headers: Record<string, string> = {
    accept: "application/json",
    "Idempotency-Key": entry.id,
    ...entry.request.headers,
  };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  if (entry.request.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetcher(entry.request.url, {
      method: entry.request.method,
      credentials: "same-origin",
      headers,
      body: entry.request.body === undefined ? undefined : JSON.stringify(entry.request.body),
    });
  } catch {
    return { outcome: "retry", reason: "network" };
  }
  let body: unknown = null;
  try {
    const text = await response.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's error page): the status alone decides.
  }
  return classifyResponse(response.status, body);
}
