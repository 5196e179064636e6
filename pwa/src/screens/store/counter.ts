/**
 * The counter's checks on the phone, network or not: a pickup code against the salted hash
 * the server gives with each parcel waiting at the counter (never the code; see the
 * server's fulfillment/counter.py), and the ID check some orders ask for. A refusal here is
 * the server's own (same code, same sentence), and nothing is queued: only a handover the
 * phone verified goes into the outbox; the server checks it again when it arrives.
 */
import type { Schemas } from "../../api/client";
import type { Problem } from "../../api/problem";
import { normalisePickupCode } from "./store";

export type PickupCodeCheck = Schemas["PickupCodeCheckOut"];

/** The code matches, it does not, or this phone cannot tell (no check kept, no WebCrypto). */
export type CodeVerdict = "matches" | "wrong" | "unverifiable";

/** The server's refusals, made by the phone when it can tell already. */
export const WRONG_CODE: Problem = { status: 409, code: "wrong_pickup_code" };
export const ID_NOT_CHECKED: Problem = { status: 422, code: "id_check_required" };

function fromBase64Url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let differ = 0;
  for (let i = 0; i < a.length; i++) differ |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return differ === 0;
}

/**
 * Check `code` as the counter typed or scanned it against `check`: PBKDF2 with SHA-256 over
 * the code in upper case without spaces or dashes, slow on purpose (tens of ms).
 */
export async function checkPickupCode(
  code: string,
  check: PickupCodeCheck | null | undefined,
  subtle: SubtleCrypto | null = globalThis.crypto?.subtle ?? null,
): Promise<CodeVerdict> {
  if (!check || check.algorithm !== "PBKDF2-SHA256" || !subtle) return "unverifiable";
  const given = normalisePickupCode(code);
  if (!given) return "wrong";
  try {
    const expected = fromBase64Url(check.hash);
    const key = await subtle.importKey("raw", new TextEncoder().encode(given), "PBKDF2", false, ["deriveBits"]);
    const salt = fromBase64Url(check.salt);
    const bits = await subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations: check.iterations },
      key,
      expected.length * 8,
    );
    return sameBytes(new Uint8Array(bits), expected) ? "matches" : "wrong";
  } catch {
    return "unverifiable"; // a malformed check, or a browser without PBKDF2
  }
}
