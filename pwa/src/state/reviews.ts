/**
 * The fraud review queue (managers): its pages as signals, shared by the review screen and the
 * count on the navigation, kept live from the `orders` topic and readable offline.
 */
import { computed, signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { api, unwrap } from "../api/client";
import { NetworkError } from "../api/problem";
import { locale, type Locale } from "../i18n";
import { recall, remember } from "../offline/cache";
import { useFeedReturn, useFollow } from "../realtime/useFollow";
import {
  badgeText,
  decidedNumbers,
  mergeQueue,
  touchesReviews,
  undecided,
  type FraudReview,
} from "../screens/reviews/reviews";
import { outboxEntries } from "./outbox";
import { me, onSignedOut } from "./session";

// A burst (a capture, then its hold) makes one request, well within the second it may take.
const LIVE_PAUSE_MS = 120;
// A card fills most of a phone's screen: a short first page, scrolling reads the rest.
const PAGE_SIZE = 20;

interface Page {
  items: FraudReview[];
  next_cursor: string | null;
}

export interface Queue extends Page {
  /** The language of the reasons' sentences (the server writes them in the caller's). */
  locale: Locale;
  /** When the server's answer was asked for: decisions accepted later are not in it yet. */
  readAt: number;
  /** Set when the queue shown is the one kept on this phone (no network). */
  savedAt: number | null;
}

export const reviewQueue = signal<Queue | null>(null);
export const reviewLoading = signal<"first" | "more" | null>(null);
export const reviewFailure = signal<unknown>(null);
let run = 0;

onSignedOut(() => {
  run += 1;
  reviewQueue.value = null;
  reviewFailure.value = null;
  reviewLoading.value = null;
});

const cacheKey = (lang: Locale) => `reviews:fraud:${lang}`;

function fetchReviews(cursor?: string | null): Promise<Page> {
  return unwrap(api.GET("/api/reviews/fraud", { params: { query: { cursor: cursor ?? undefined, limit: PAGE_SIZE } } }));
}

/** Numbers this phone decided that the queue shown still lists. */
const decided = computed(() => {
  const who = me.value;
  const queue = reviewQueue.value;
  if (!who || !queue) return new Set<string>();
  return decidedNumbers(outboxEntries.value.filter((e) => e.owner === who.id), queue.readAt);
});

/** The cards to show, without the orders decided on this phone. */
export const reviewCards = computed<FraudReview[]>(() => undecided(reviewQueue.value?.items ?? [], decided.value));

/** The navigation's count ("" when nothing waits). */
export const reviewBadge = computed(() => {
  const queue = reviewQueue.value;
  return queue ? badgeText(reviewCards.value.length, queue.next_cursor !== null) : "";
});

/** Read the queue's first page (what this phone kept, without network). */
export async function loadReviews(): Promise<void> {
  const mine = ++run;
  const lang = locale.value;
  const readAt = Date.now();
  reviewLoading.value = "first";
  reviewFailure.value = null;
  try {
    const page = await fetchReviews();
    if (mine !== run) return;
    reviewQueue.value = { ...page, locale: lang, readAt, savedAt: null };
    void remember(cacheKey(lang), page, readAt);
  } catch (error) {
    if (mine !== run) return;
    const kept = error instanceof NetworkError ? await recall<Page>(cacheKey(lang)) : undefined;
    if (mine !== run) return;
    if (kept) reviewQueue.value = { ...kept.value, locale: lang, readAt: kept.savedAt, savedAt: kept.savedAt };
    else {
      reviewQueue.value = null;
      reviewFailure.value = error;
    }
  } finally {
    if (mine === run) reviewLoading.value = null;
  }
}

export async function loadMoreReviews(): Promise<void> {
  const current = reviewQueue.value;
  if (!current?.next_cursor || reviewLoading.value || current.savedAt !== null) return;
  const mine = run;
  reviewLoading.value = "more";
  try {
    const page = await fetchReviews(current.next_cursor);
    if (mine !== run) return;
    const seen = new Set(current.items.map((r) => r.number));
    const items = [...current.items, ...page.items.filter((r) => !seen.has(r.number))];
    reviewQueue.value = { ...current, items, next_cursor: page.next_cursor };
    void remember(cacheKey(current.locale), { items, next_cursor: page.next_cursor }, current.readAt);
  } catch (error) {
    if (mine === run) reviewFailure.value = error;
  } finally {
    if (mine === run) reviewLoading.value = null;
  }
}

/** The queue changed somewhere: read its first page again and fold it into the cards. */
export async function refreshReviews(): Promise<void> {
  const current = reviewQueue.value;
  if (!current || current.locale !== locale.value) return loadReviews();
  const mine = run;
  const readAt = Date.now();
  try {
    const head = await fetchReviews();
    const now = reviewQueue.value;
    if (mine !== run || !now) return;
    const items = mergeQueue(now.items, head.items, head.next_cursor !== null);
    // Pages read further down stay valid (keyset cursors); a queue kept offline starts again.
    const next_cursor = now.savedAt === null && head.next_cursor !== null ? now.next_cursor : head.next_cursor;
    // `readAt` stays the first reading's: the cards kept below the fresh page date from it.
    reviewQueue.value = { ...now, items, next_cursor, savedAt: null };
    void remember(cacheKey(now.locale), { items, next_cursor }, readAt);
  } catch {
    // Offline: the feed is down too; this runs again when it returns.
  }
}

/** Take an order out of the queue shown (a decision the server accepted). */
export function dropReview(number: string): void {
  const current = reviewQueue.value;
  if (current) reviewQueue.value = { ...current, items: current.items.filter((r) => r.number !== number) };
}

/**
 * Keep the queue live while `enabled` (a manager is signed in): read it once, then again when
 * a live event may have changed it, when the feed comes back, and when the language changes.
 */
export function useReviewQueue(enabled: boolean): void {
  const timer = useRef<number | undefined>(undefined);
  const lang = locale.value;
  useEffect(() => {
    if (!enabled) return;
    const queue = reviewQueue.value;
    if (!queue || queue.locale !== lang) void loadReviews();
    return () => {
      window.clearTimeout(timer.current);
      timer.current = undefined;
    };
  }, [enabled, lang]);
  useFollow(enabled ? "orders" : null, (event) => {
    if (!touchesReviews(event) || timer.current !== undefined) return;
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      void refreshReviews();
    }, LIVE_PAUSE_MS);
  });
  useFeedReturn(() => {
    if (enabled) void refreshReviews();
  });
}
