/**
 * One piece of store work: the pick list (scan, hardware scanner or tap), packed or ready,
 * the handover at the counter with the customer's QR code or typed code, and rejections.
 * Every action goes through the outbox: taken offline, it is sent when the network returns.
 * A handover is queued only once this phone has checked the code (and, when the order asks
 * for it, that an ID was checked): a wrong code is refused here, network or not.
 */
import "./store.css";

import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { api, unwrap } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { ActionList } from "../../components/ActionList";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { locale, t } from "../../i18n";
import { formatMoment } from "../../i18n/format";
import { remember } from "../../offline/cache";
import { useCachedQuery } from "../../offline/query";
import { useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { outboxEntries, queueAction } from "../../state/outbox";
import { me } from "../../state/session";
import { Finished } from "./Finished";
import { Handover } from "./Handover";
import { Picking } from "./Picking";
import { Reject } from "./Reject";
import { Ship } from "./Ship";
import {
  ACTION_KIND,
  actionsFor,
  projectedStatus,
  type Fulfillment,
  type WorkAction,
} from "./store";
import { LIVE_PAUSE_MS, outcomeOf, scannerComponent, useScanner, workStatusLabel, type Outcome, type Scan } from "./work";

export function FulfillmentPage({ id }: { id: string }) {
  const { state, reload } = useCachedQuery<Fulfillment>(`fulfillment:${id}`, () =>
    unwrap(api.GET("/api/fulfillments/{fulfillment_id}", { params: { path: { fulfillment_id: id } } })),
  );
  const busy = useSignal(false);
  // The last action taken on this page; what became of it is read from the outbox, live.
  const taken = useSignal<{ id: string; action: WorkAction } | null>(null);
  // A refusal this phone made itself (a wrong code at the counter): nothing was queued.
  const said = useSignal<Outcome | null>(null);
  const scanned = useSignal<Scan | null>(null);
  const scanner = useScanner();
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const work = state.data;
  useFollow(work ? `location:${work.location}` : null, () => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void reload(), LIVE_PAUSE_MS);
  });

  const entries = actionsFor(outboxEntries.value, id).filter((e) => e.owner === me.value?.id);
  const status = work ? projectedStatus(work.status, entries, state.savedAt) : "";
  // An action queued here and sent later (the network came back): show the work as it now
  // stands, without waiting for the live feed, which may still be reconnecting.
  const sent = entries.filter((e) => e.status === "sent").length;
  const sentBefore = useRef(sent);
  useEffect(() => {
    if (sent > sentBefore.current) void reload();
    sentBefore.current = sent;
  }, [sent]);

  const run = async (action: WorkAction, body?: unknown, params: Record<string, string | number> = {}) => {
    if (!work) return;
    busy.value = true;
    taken.value = null;
    said.value = null;
    try {
      const entry = await queueAction({
        kind: ACTION_KIND[action],
        subject: work.order_number,
        params: { fulfillment: work.id, number: work.order_number, ...params },
        request: { method: "POST", url: `/api/fulfillments/${encodeURIComponent(work.id)}/${action}`, body },
      });
      taken.value = { id: entry.id, action };
      if (entry.status === "sent") {
        // The answer is the work as it now stands.
        const fresh = entry.response as Fulfillment | undefined;
        if (fresh?.id === work.id) void remember(`fulfillment:${id}`, fresh);
        void reload();
      }
    } finally {
      busy.value = false;
    }
  };

  const onCode = (code: string) => {
    const target = scanner.open.value ?? "item";
    scanner.open.value = null;
    scanned.value = { code, n: (scanned.value?.n ?? 0) + 1, target };
  };
  // A refusal that came later (an action sent when the network returned) is said here too,
  // while it is the last word on this work.
  const last = entries.at(-1);
  const mine = taken.value ? entries.find((e) => e.id === taken.value?.id) : undefined;
  const shown =
    said.value ?? (mine && taken.value ? outcomeOf(mine, taken.value.action) : last?.status === "failed" ? outcomeOf(last, "handover") : null);
  const refuse = (text: string) => {
    taken.value = null;
    said.value = { tone: "refused", text };
    navigator.vibrate?.([80, 60, 80]);
  };
  // Accepted actions are in the outbox's list; here, what waits or was refused.
  const open = entries.filter((e) => e.status !== "sent");

  const title = work ? t(work.kind === "ship" ? "fulfillment.title.ship" : "fulfillment.title.pickup", { number: work.order_number }) : t("fulfillment.loading");
  const Scanner = scannerComponent();
  const allowed = new Set(work?.allowed_actions ?? []);
  const picking = status === "new" || status === "picking" || (status === "packed" && work?.kind === "pickup");

  return (
    <section class="screen store" aria-labelledby="work-title">
      <Link href={paths.store} class="back">
        <Icon name="back" size={20} />
        {t("store.title")}
      </Link>
      <h1 id="work-title">{title}</h1>
      {!work && state.loading && <Loading />}
      {!work && state.error != null && (
        <ErrorNotice
          message={state.error instanceof ApiError && state.error.status === 404 ? t("fulfillment.gone") : describeError(state.error, locale.value)}
          onRetry={() => void reload()}
        />
      )}
      {work && (
        <>
          {state.fromCache && state.savedAt != null && !state.loading && (
            <div class="notice notice--stale" role="status">
              <SeenAt savedAt={state.savedAt} />
            </div>
          )}
          <p class="work-head">
            <span class={`badge work-status work-status--${status}`} data-status={status}>
              {workStatusLabel(status)}
            </span>
            <span class="muted small"> {t(work.kind === "ship" ? "store.kind.ship" : "store.kind.pickup")} · {work.location}</span>
          </p>
          {work.customer_arrived_at && status === "ready_for_pickup" && (
            <p class="flag flag--here flag--big" role="status">
              {t("fulfillment.customerHereSince", { time: formatMoment(Date.parse(work.customer_arrived_at), locale.value) })}
            </p>
          )}
          <div class="outcome-region work-outcome" aria-live="polite">
            {shown && (
              <p class={`outcome outcome--${shown.tone}`} role={shown.tone === "refused" ? "alert" : "status"}>
                {shown.text}
              </p>
            )}
          </div>

          {status === "ready_for_pickup" && (
            <Handover work={work} run={run} refuse={refuse} busy={busy.value} openScanner={() => void scanner.openScanner("qr")} scanned={scanned.value} />
          )}
          {(status === "packed" || status === "partially_shipped") && work.kind === "ship" && <Ship run={run} busy={busy.value} />}
          {(status === "handed_over" || status === "shipped" || status === "rejected" || status === "cancelled") && <Finished work={work} status={status} />}

          {(picking || status === "ready_for_pickup" || status === "packed" || status === "partially_shipped") && (
            <Picking
              work={work}
              status={status}
              run={run}
              busy={busy.value}
              openScanner={() => void scanner.openScanner("item")}
              scanned={scanned.value}
            />
          )}
          {allowed.has("reject") && status === work.status && <Reject work={work} run={run} busy={busy.value} />}
          {scanner.failed.value && <ErrorNotice message={t("error.chunk")} onRetry={() => void scanner.openScanner(scanner.open.value ?? "item")} />}

          {open.length > 0 && (
            <section aria-labelledby="work-actions-title">
              <h2 id="work-actions-title" class="section-title">
                {t("fulfillment.actions")}
              </h2>
              <ActionList entries={open} labelledBy="work-actions-title" />
            </section>
          )}
          <p class="muted small">
            <Link href={paths.order(work.order_number)}>{t("fulfillment.openOrder", { number: work.order_number })}</Link>
          </p>
        </>
      )}
      {scanner.open.value && Scanner && (
        <Scanner
          onCode={onCode}
          onClose={() => (scanner.open.value = null)}
          title={scanner.open.value === "qr" ? t("scanner.qrTitle") : undefined}
          hint={scanner.open.value === "qr" ? t("scanner.qrHint") : undefined}
        />
      )}
    </section>
  );
}
