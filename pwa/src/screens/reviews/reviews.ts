/**
 * The fraud review queue in the app: what `GET /api/reviews/fraud` lists, which live events
 * change it, how a fresh first page folds into the cards shown, and the score and reasons as a
 * manager reads them. No I/O here.
 */
import type { Schemas } from "../../api/client";
import { signed } from "../../i18n/format";

/** One rule that added to an order's score, with its sentence in the caller's language. */
export type FraudReason = Schemas["FraudReasonOut"];
/** The customer's other orders (by e-mail), beside the one under review. */
export type CustomerHistory = Schemas["CustomerHistoryOut"];
/** A capture held as suspected fraud, waiting for a manager's decision. */
export type FraudReview = Schemas["FraudReviewItem"];
/** The order page's fraud section (`GET /api/orders/{number}` → `fraud`). */
export type FraudAssessment = Schemas["FraudOut"];

/** The hold reason of a capture the fraud rules stopped. */
export const SUSPECTED_FRAUD = "suspected_fraud";

/** Outbox kinds of the queue's two decisions. */
export const REVIEW_KINDS: ReadonlySet<string> = new Set(["order.approve", "order.reject"]);

interface EventLike {
  type: string;
  data: Record<string, unknown>;
}

/**
 * Whether a live event on the `orders` topic may change the queue: a capture held as suspected
 * fraud joins it; a release (an approval, or a release from the order page) or the cancellation
 * of a held order (a rejection) takes one out. Events carry no order number on `orders`: the
 * queue reads its first page again.
 */
export function touchesReviews(event: EventLike): boolean {
  switch (event.type) {
    case "order.held":
      return event.data.reason === SUSPECTED_FRAUD;
    case "order.released":
      return true;
    case "order.cancelled":
      return event.data.from === "on_hold";
    default:
      return false;
  }
}

function newestFirst(a: { created_at: string; number: string }, b: { created_at: string; number: string }): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.number < b.number ? 1 : a.number > b.number ? -1 : 0;
}

/**
 * Fold a fresh first page into the cards shown (newest first). Fresh cards replace theirs. A
 * card shown but missing from the fresh page left the queue when the page covers its place: the
 * page is the whole queue (`headHasMore` false), or the card is newer than the page's last one.
 * Older cards keep their place: they belong to pages read later.
 */
export function mergeQueue<T extends { number: string; created_at: string }>(
  shown: readonly T[],
  head: readonly T[],
  headHasMore: boolean,
): T[] {
  const fresh = new Set(head.map((r) => r.number));
  const last = head[head.length - 1];
  const kept = shown.filter((r) => {
    if (fresh.has(r.number)) return false;
    if (!headHasMore) return false;
    return last !== undefined && newestFirst(r, last) > 0;
  });
  return [...head, ...kept].sort(newestFirst);
}

interface ActionLike {
  kind: string;
  subject: string;
  status: "pending" | "sending" | "sent" | "failed";
  sentAt?: number;
}

/**
 * Orders this phone has decided that the queue read at `readAt` still lists: a decision waiting
 * to be sent, or one the server accepted after that read. A refused decision is not among them:
 * its card comes back, and the refusal is shown.
 */
export function decidedNumbers(actions: readonly ActionLike[], readAt: number): Set<string> {
  const decided = new Set<string>();
  for (const a of actions) {
    if (!REVIEW_KINDS.has(a.kind)) continue;
    if (a.status === "pending" || a.status === "sending" || (a.status === "sent" && (a.sentAt ?? 0) >= readAt)) {
      decided.add(a.subject);
    }
  }
  return decided;
}

/** The cards to show: the queue without the orders this phone already decided (sent or queued). */
export function undecided<T extends { number: string }>(items: readonly T[], decided: ReadonlySet<string>): T[] {
  return decided.size ? items.filter((r) => !decided.has(r.number)) : [...items];
}

/** The count on the navigation's badge: "" when nothing waits, "20+" when more pages do. */
export function badgeText(count: number, more: boolean): string {
  if (count <= 0 && !more) return "";
  return more ? `${count}+` : String(count);
}

/** Reasons, heaviest first (then as the server listed them): the first says most. */
export function byWeight(reasons: readonly FraudReason[]): FraudReason[] {
  return reasons
    .map((reason, i) => ({ reason, i }))
    .sort((a, b) => b.reason.points - a.reason.points || a.i - b.i)
    .map((x) => x.reason);
}

/** A reason's points as written beside it: "+40", "−10" (a rule may lower the score). */
export const formatPoints = (points: number): string => signed(points);

/** The score as a share of the bar under it, 0–1: the threshold sits halfway, twice it fills it. */
export function scoreFill(score: number, threshold: number): number {
  if (threshold <= 0) return score > 0 ? 1 : 0;
  return Math.max(0, Math.min(1, score / (2 * threshold)));
}

/** Whether the score holds the order: over the threshold, not equal to it (the server's rule). */
export function isOver(score: number, threshold: number | null): boolean {
  return threshold !== null && score > threshold;
}
