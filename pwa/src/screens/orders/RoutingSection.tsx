/** Where routing sent the order and why: managers only (the API refuses anyone else). */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

import { api, unwrap, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { ErrorNotice, Loading } from "../../components/Notice";
import { locale, t } from "../../i18n";
import { formatMoment, formatNumber } from "../../i18n/format";
import { valueLabel as label } from "../../i18n/labels";
import { RoutingReason } from "./RoutingReasons";

type Decision = Schemas["StoredDecisionOut"];
type Candidate = Schemas["CandidateOut"];

// Candidates shown before "show all": the winner and its closest rivals fit on a phone.
const FIRST_CANDIDATES = 3;

function CandidateRow({ candidate }: { candidate: Candidate }) {
  const facts = [
    candidate.distance_km != null && t("routing.km", { km: formatNumber(Math.round(candidate.distance_km * 10) / 10, locale.value) }),
    candidate.score != null && t("routing.score", { score: formatNumber(Math.round(candidate.score * 100) / 100, locale.value) }),
  ].filter(Boolean);
  return (
    <li class={`candidate candidate--${candidate.outcome}`} data-code={candidate.code} data-outcome={candidate.outcome}>
      <span class="candidate__head">
        <span class="mono candidate__code">{candidate.code}</span>
        <span class="candidate__outcome">{label("routing.outcome", candidate.outcome)}</span>
        {facts.length > 0 && <span class="muted small candidate__facts">{facts.join(" · ")}</span>}
      </span>
      <span class="small candidate__reason"><RoutingReason reason={candidate.explanation} fallback={candidate.reason} /></span>
    </li>
  );
}

function DecisionView({ decision, index, count }: { decision: Decision; index: number; count: number }) {
  const all = useSignal(false);
  const shown = all.value ? decision.candidates : decision.candidates.slice(0, FIRST_CANDIDATES);
  const hidden = decision.candidates.length - shown.length;
  const id = `routing-decision-${index}`;
  return (
    <article class="decision" data-routed={String(decision.routed)} aria-labelledby={id}>
      <h3 id={id} class="decision__title small muted">
        {count > 1 && `${t("routing.decisionNumber", { n: index + 1, count })} · `}
        <time dateTime={decision.created_at}>{formatMoment(Date.parse(decision.created_at), locale.value)}</time>
      </h3>
      <p class="decision__reason" data-reason><RoutingReason reason={decision.explanation} fallback={decision.reason} /></p>
      <p class="small">
        {t("routing.decidingFactor")} <strong data-factor={decision.deciding_factor}>{label("routing.factor", decision.deciding_factor)}</strong>
      </p>
      {decision.shortages.length > 0 && (
        <p class="small decision__short">
          {t("routing.short")}{" "}
          {decision.shortages.map((s) => t("routing.shortage", { sku: s.sku, requested: s.requested, available: s.available })).join(", ")}
        </p>
      )}
      {decision.candidates.length > 0 && (
        <ul class="candidates" aria-label={t("routing.candidates")}>
          {shown.map((c) => (
            <CandidateRow key={c.code} candidate={c} />
          ))}
        </ul>
      )}
      {hidden > 0 && (
        <button type="button" class="button button--quiet" aria-expanded={false} onClick={() => (all.value = true)}>
          {t("routing.showAll", { count: decision.candidates.length })}
        </button>
      )}
      {(decision.not_listed > 0 || decision.without_stock > 0) && (all.value || hidden === 0) && (
        <p class="muted small">
          {[
            decision.not_listed > 0 && t("routing.notListed", { count: decision.not_listed }),
            decision.without_stock > 0 && t("routing.withoutStock", { count: decision.without_stock }),
          ].filter(Boolean).join(" · ")}
        </p>
      )}
    </article>
  );
}

/** Where routing sent the order and why: managers only (the API refuses anyone else). */
export function RoutingSection({ number, version }: { number: string; version: number }) {
  const decisions = useSignal<Decision[] | null>(null);
  const failure = useSignal<unknown>(null);
  const load = () => {
    failure.value = null;
    unwrap(api.GET("/api/routing/decisions/{order_number}", { params: { path: { order_number: number } } })).then(
      (found) => {
        // Oldest first: a re-routed order reads in the order things happened.
        decisions.value = [...found].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
      },
      (error: unknown) => (failure.value = error),
    );
  };
  // Read after the order itself, and again when the order changed (a re-route adds one).
  useEffect(load, [number, version]);
  const list = decisions.value;
  return (
    <>
      <h2 id="order-routing" class="section-title">{t("routing.title")}</h2>
      {list === null && failure.value == null && <Loading />}
      {list === null && failure.value != null && <ErrorNotice message={describeError(failure.value, locale.value)} onRetry={load} />}
      {list !== null && list.length === 0 && <p class="muted">{t("routing.none")}</p>}
      {list !== null && list.length > 0 && (
        <div class="decisions" aria-labelledby="order-routing">
          {list.map((d, i) => (
            <DecisionView key={`${d.created_at}-${i}`} decision={d} index={i} count={list.length} />
          ))}
        </div>
      )}
    </>
  );
}
