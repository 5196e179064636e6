/**
 * "To review" (managers): captures held as suspected fraud, newest first, each a card with its
 * amount, customer, score against the threshold, reasons and the customer's history; approve or
 * reject in one tap. Live (the queue is kept by the shell), readable offline, and decisions taken
 * without network go through the outbox.
 */
import "../orders/orders.css";
import "./reviews.css";

import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

import { ApiError, describeError } from "../../api/problem";
import { ActionList } from "../../components/ActionList";
import { Link } from "../../components/Link";
import { PagedResults } from "../../components/PagedResults";
import { useInfiniteScroll } from "../../components/useInfiniteScroll";
import { locale, t } from "../../i18n";
import { formatMoment, formatMoney } from "../../i18n/format";
import type { OutboxEntry } from "../../offline/outbox";
import { paths } from "../../routes";
import { outboxEntries, queueAction } from "../../state/outbox";
import {
  dropReview,
  loadMoreReviews,
  loadReviews,
  refreshReviews,
  reviewCards,
  reviewFailure,
  reviewLoading,
  reviewQueue,
} from "../../state/reviews";
import { me } from "../../state/session";
import { MANAGERS } from "../orders/orders";
import { FraudReasons, FraudScore } from "./FraudFacts";
import { REVIEW_KINDS, type CustomerHistory, type FraudReview } from "./reviews";

type Decision = "approve" | "reject";

interface Said {
  tone: "done" | "queued" | "refused";
  text: string;
  /** The outbox entry of the decision: a queued one is said only while it waits. */
  entry: string;
}

let opened = false;

function History({ history, currency }: { history: CustomerHistory; currency: string }) {
  if (history.orders <= 0) return <p class="review-card__history">{t("reviews.firstOrder")}</p>;
  const lang = locale.value;
  const parts = [
    history.first_order_at
      ? t("reviews.ordersSince", {
          orders: history.orders,
          date: new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(new Date(history.first_order_at)),
        })
      : t("reviews.orders", { orders: history.orders }),
    t("reviews.spent", { amount: formatMoney(history.total_spent, currency, lang) }),
  ];
  if (history.cancelled > 0) parts.push(t("reviews.cancelled", { count: history.cancelled }));
  return (
    <p class={`review-card__history${history.cancelled > 0 ? " review-card__history--cancelled" : ""}`}>
      {parts.join(" · ")}
    </p>
  );
}

function outcomeOf(entry: OutboxEntry, decision: Decision, number: string): Said {
  if (entry.status === "sent") {
    return { tone: "done", text: t(decision === "approve" ? "reviews.approved" : "reviews.rejected", { number }), entry: entry.id };
  }
  if (entry.status === "failed") {
    const text = describeError(new ApiError(entry.httpStatus ?? 400, entry.problem ?? null), locale.value);
    return { tone: "refused", text, entry: entry.id };
  }
  return { tone: "queued", text: t("reviews.queued", { number }), entry: entry.id };
}

function ReviewCard({ review, onSaid }: { review: FraudReview; onSaid: (said: Said) => void }) {
  const busy = useSignal(false);
  const refused = useSignal<string | null>(null);
  const n = review.number;
  const who = review.customer_name || review.customer_email || t("orders.noCustomer");
  const lang = locale.value;
  const title = `review-${n}`;

  const decide = async (decision: Decision) => {
    busy.value = true;
    refused.value = null;
    try {
      const entry = await queueAction({
        kind: `order.${decision}`,
        subject: n,
        params: { number: n },
        request: { method: "POST", url: `/api/orders/${encodeURIComponent(n)}/${decision}` },
      });
      const said = outcomeOf(entry, decision, n);
      if (entry.status === "sent") dropReview(n);
      if (said.tone === "refused") {
        refused.value = said.text;
        void refreshReviews(); // decided elsewhere meanwhile, say: the card shows the queue as it is
      } else onSaid(said);
    } finally {
      busy.value = false;
    }
  };

  return (
    <article class="review-card" data-number={n} aria-labelledby={title}>
      <div class="review-card__head">
        <h2 id={title} class="review-card__title">
          <Link href={paths.order(n)} class="mono">{n}</Link>
        </h2>
        <span class="review-card__total">{formatMoney(review.total, review.currency, lang)}</span>
      </div>
      <p class="review-card__who">
        <span class="review-card__name">{who}</span>
        {review.customer_name && review.customer_email && <span class="review-card__email muted small">{review.customer_email}</span>}
      </p>
      <p class="muted small">
        <time dateTime={review.created_at}>{formatMoment(Date.parse(review.created_at), lang)}</time> · {review.channel}
      </p>
      <FraudScore score={review.score} threshold={review.threshold} />
      <h3 class="review-card__label" id={`${title}-why`}>{t("reviews.reasons")}</h3>
      <FraudReasons reasons={review.reasons} labelledBy={`${title}-why`} />
      <h3 class="review-card__label">{t("reviews.history")}</h3>
      <History history={review.history} currency={review.currency} />
      {refused.value && (
        <p class="outcome outcome--refused" role="alert">{refused.value}</p>
      )}
      <div class="review-card__actions">
        <button
          type="button"
          class="button button--danger"
          disabled={busy.value}
          aria-label={t("reviews.rejectOrder", { number: n })}
          onClick={() => void decide("reject")}
          data-decision="reject"
        >
          {t("reviews.reject")}
        </button>
        <button
          type="button"
          class="button button--primary"
          disabled={busy.value}
          aria-label={t("reviews.approveOrder", { number: n })}
          onClick={() => void decide("approve")}
          data-decision="approve"
        >
          {t("reviews.approve")}
        </button>
      </div>
    </article>
  );
}

export function ReviewQueue() {
  const said = useSignal<Said | null>(null);
  const who = me.value;
  const manager = who ? MANAGERS.has(who.role) : false;

  useEffect(() => {
    // The shell keeps the queue live; back on the screen, it is read again once in case the
    // feed missed something while it was away (it says so itself when it comes back).
    if (manager && opened && reviewQueue.value) void refreshReviews();
    opened = true;
  }, []);

  const queue = reviewQueue.value;
  const more = Boolean(queue?.next_cursor) && queue?.savedAt === null;
  const cards = reviewCards.value;
  const sentinel = useInfiniteScroll(more, `${queue?.items.length}:${queue?.next_cursor}`, loadMoreReviews);
  // Decisions of this person not sent yet, or refused: what happens to them stays in sight.
  const mine = outboxEntries.value.filter(
    (e) => e.owner === who?.id && REVIEW_KINDS.has(e.kind) && e.status !== "sent",
  );
  // "Kept on this phone" holds while the decision waits; once sent or refused, the list of
  // decisions (or the card leaving) says what became of it.
  const saying = said.value;
  const shownSaid = saying && (saying.tone !== "queued" || mine.some((e) => e.id === saying.entry && e.status !== "failed")) ? saying : null;

  return (
    <section class="screen" aria-labelledby="reviews-title">
      <h1 id="reviews-title">{t("reviews.title")}</h1>
      {!manager ? (
        <p class="muted">{t("reviews.managersOnly")}</p>
      ) : (
        <>
          <p class="muted small">{t("reviews.intro")}</p>
          <div class="outcome-region" role="status" aria-live="polite">
            {shownSaid && <p class={`outcome outcome--${shownSaid.tone}`}>{shownSaid.text}</p>}
          </div>
          {mine.length > 0 && (
            <>
              <h2 class="section-title" id="review-decisions">{t("reviews.decisions")}</h2>
              <ActionList entries={mine} labelledBy="review-decisions" />
            </>
          )}
          <PagedResults
            list={queue ? { items: cards, savedAt: queue.savedAt } : null}
            rowKey={(row) => row.number}
            renderRow={(row) => <ReviewCard review={row} onSaid={(s) => (said.value = s)} />}
            listClass="reviews"
            labelledBy="reviews-title"
            loading={reviewLoading.value}
            failure={reviewFailure.value}
            more={more}
            sentinel={sentinel}
            loadMore={loadMoreReviews}
            retry={loadReviews}
            words={{ offline: t("reviews.offline"), offlineNothing: t("reviews.offlineNothing"), none: t("reviews.none") }}
          />
        </>
      )}
    </section>
  );
}
