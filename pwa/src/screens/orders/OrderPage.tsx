/** One order: lines and allocations, totals, customer, delivery, the timeline (live), actions. */
import "./orders.css";

import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { api, unwrap, type Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { ActionList } from "../../components/ActionList";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { StatusBadge } from "../../components/StatusBadge";
import { catalogs, locale, t, type MessageKey } from "../../i18n";
import { formatMoment, formatMoney, formatNumber } from "../../i18n/format";
import { useCachedQuery } from "../../offline/query";
import type { OutboxEntry } from "../../offline/outbox";
import { useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { RoutingReason } from "./RoutingReasons";
import { outboxEntries, queueAction } from "../../state/outbox";
import { me } from "../../state/session";

type Order = Schemas["OrderDetailOut"];
type Line = Schemas["LineOut"];
type Decision = Schemas["StoredDecisionOut"];
type Candidate = Schemas["CandidateOut"];

// Candidates shown before "show all": the winner and its closest rivals fit on a phone.
const FIRST_CANDIDATES = 3;
const HOLD_REASONS = ["address_check", "suspected_fraud", "customer_request", "stock_problem"] as const;
const MANAGERS = new Set(["manager", "admin"]);
// Lines and delivery can change until fulfillment starts.
const EDITABLE = new Set(["awaiting_capacity", "confirmed", "on_hold"]);
const ADDRESS_FIELDS = ["name", "line1", "line2", "postal_code", "city", "country"] as const;
type AddressField = (typeof ADDRESS_FIELDS)[number];

function label(prefix: string, value: string): string {
  const key = `${prefix}.${value}` as MessageKey;
  return key in catalogs.en ? t(key) : value;
}

interface Outcome {
  tone: "done" | "queued" | "refused";
  text: string;
}

function outcomeOf(entry: OutboxEntry): Outcome {
  if (entry.status === "sent") return { tone: "done", text: t("order.action.done") };
  if (entry.status === "failed") {
    return { tone: "refused", text: describeError(new ApiError(entry.httpStatus ?? 400, entry.problem ?? null), locale.value) };
  }
  return { tone: "queued", text: t("order.action.queued") };
}

function Lines({ order }: { order: Order }) {
  const money = (v: number) => formatMoney(v, order.totals.currency, locale.value);
  return (
    <ul class="list lines" aria-labelledby="order-lines">
      {order.lines.map((line) => (
        <li key={line.id} class="line" data-sku={line.sku}>
          <div class="line__main">
            <span class="row__title">{line.name}</span>
            <span class="row__sub mono">{line.sku}</span>
            <span class="row__sub">
              {t("order.quantity", { quantity: line.quantity })}
              {line.cancelled_quantity > 0 && ` · ${t("order.cancelledUnits", { quantity: line.cancelled_quantity })}`}
            </span>
            {line.allocations.length > 0 && (
              <span class="row__sub">
                {t("order.allocated")}{" "}
                {line.allocations.map((a) => `${a.location} × ${a.quantity}`).join(", ")}
              </span>
            )}
          </div>
          <span class="line__total">{money(line.total)}</span>
        </li>
      ))}
    </ul>
  );
}

function Totals({ order }: { order: Order }) {
  const money = (v: number) => formatMoney(v, order.totals.currency, locale.value);
  const rows: [MessageKey, number][] = [
    ["order.subtotal", order.totals.subtotal],
    ["order.shipping", order.totals.shipping],
    ["order.tax", order.totals.tax],
  ];
  return (
    <dl class="totals">
      {rows.map(([key, value]) => (
        <div key={key}>
          <dt>{t(key)}</dt>
          <dd>{money(value)}</dd>
        </div>
      ))}
      <div class="totals__grand">
        <dt>{t("order.total")}</dt>
        <dd data-total>{money(order.totals.total)}</dd>
      </div>
    </dl>
  );
}

function Timeline({ order }: { order: Order }) {
  const events = [...order.timeline].reverse();
  return (
    <ol class="timeline" aria-labelledby="order-timeline">
      {events.map((e, i) => (
        <li key={`${e.seq ?? i}-${e.type}`} class="timeline__event" data-type={e.type}>
          <span class="timeline__what">{label("order.event", e.type)}</span>
          {typeof e.data.reason === "string" && <span class="muted"> · {label("order.holdReason", e.data.reason)}</span>}
          {typeof e.data.text === "string" && <span class="timeline__note">{e.data.text}</span>}
          <span class="muted small timeline__when">
            <time dateTime={e.at}>{formatMoment(Date.parse(e.at), locale.value)}</time> · {e.actor}
          </span>
        </li>
      ))}
    </ol>
  );
}

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
function Routing({ number, version }: { number: string; version: number }) {
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

function Actions({ order, onDone }: { order: Order; onDone: () => void }) {
  const open = useSignal<"hold" | "cancel" | "note" | "edit" | null>(null);
  const quantities = useSignal<Record<string, string>>({});
  const address = useSignal<Record<AddressField, string>>({ name: "", line1: "", line2: "", postal_code: "", city: "", country: "" });
  const reason = useSignal<string>(HOLD_REASONS[0]);
  const text = useSignal("");
  const cancelQty = useSignal<Record<string, string>>({});
  const busy = useSignal(false);
  const outcome = useSignal<Outcome | null>(null);
  const who = me.value;
  const manager = who ? MANAGERS.has(who.role) : false;
  const allowed = new Set(order.allowed_actions);
  const number = order.number;

  const run = async (action: Parameters<typeof queueAction>[0]) => {
    busy.value = true;
    outcome.value = null;
    try {
      const entry = await queueAction(action);
      outcome.value = outcomeOf(entry);
      if (entry.status === "sent") {
        open.value = null;
        text.value = "";
        cancelQty.value = {};
        onDone();
      }
    } finally {
      busy.value = false;
    }
  };

  const hold = (e: Event) => {
    e.preventDefault();
    const note = text.value.trim() || undefined;
    void run({
      kind: "order.hold",
      subject: number,
      params: { number, reason: label("order.holdReason", reason.value) },
      request: { method: "POST", url: `/api/orders/${encodeURIComponent(number)}/hold`, body: { reason: reason.value, note } },
    });
  };
  const release = () =>
    void run({
      kind: "order.release",
      subject: number,
      params: { number },
      request: { method: "POST", url: `/api/orders/${encodeURIComponent(number)}/release` },
    });
  const cancel = (e: Event) => {
    e.preventDefault();
    const lines = order.lines
      .map((l: Line) => ({ line: l, quantity: Number.parseInt(cancelQty.value[l.id] ?? "", 10) }))
      .filter((x) => Number.isInteger(x.quantity) && x.quantity > 0)
      .map((x) => ({ line_id: x.line.id, quantity: x.quantity }));
    const why = text.value.trim() || undefined;
    void run({
      kind: lines.length ? "order.cancelLines" : "order.cancel",
      subject: number,
      params: { number, units: lines.reduce((n, l) => n + l.quantity, 0) },
      request: {
        method: "POST",
        url: `/api/orders/${encodeURIComponent(number)}/cancel`,
        body: lines.length ? { lines, reason: why } : { reason: why },
      },
    });
  };
  const note = (e: Event) => {
    e.preventDefault();
    if (!text.value.trim()) return;
    void run({
      kind: "order.note",
      subject: number,
      params: { number },
      request: { method: "POST", url: `/api/orders/${encodeURIComponent(number)}/notes`, body: { text: text.value.trim() } },
    });
  };
  const edit = (e: Event) => {
    e.preventDefault();
    const lines = order.lines
      .map((l: Line) => ({ line: l, quantity: Number.parseInt(quantities.value[l.id] ?? "", 10) }))
      .filter((x) => Number.isInteger(x.quantity) && x.quantity >= 0 && x.quantity !== x.line.quantity)
      .map((x) => ({ line_id: x.line.id, quantity: x.quantity }));
    const current = order.delivery.address;
    const changedAddress = current && ADDRESS_FIELDS.some((f) => (current[f] ?? "") !== address.value[f]);
    const body: Record<string, unknown> = {};
    if (lines.length) body.lines = lines;
    if (changedAddress) {
      const a = address.value;
      body.delivery = {
        method: order.delivery.method,
        address: { ...a, country: a.country.trim().toUpperCase(), phone: current?.phone ?? undefined },
      };
    }
    if (!lines.length && !changedAddress) {
      open.value = null;
      return;
    }
    void run({
      kind: "order.edit",
      subject: number,
      params: { number },
      // The order as seen when the change was decided: a later change makes the server refuse.
      request: { method: "PATCH", url: `/api/orders/${encodeURIComponent(number)}`, body, headers: { "If-Match": `"${order.version}"` } },
    });
  };
  const toggle = (which: "hold" | "cancel" | "note" | "edit") => {
    open.value = open.value === which ? null : which;
    text.value = "";
    outcome.value = null;
    if (which === "edit") {
      quantities.value = Object.fromEntries(order.lines.map((l) => [l.id, String(l.quantity)]));
      const a = order.delivery.address;
      if (a) address.value = { name: a.name, line1: a.line1, line2: a.line2, postal_code: a.postal_code, city: a.city, country: a.country };
    }
  };

  return (
    <div class="order-actions">
      <div class="button-row">
        {manager && allowed.has("hold") && (
          <button type="button" class="button button--secondary" onClick={() => toggle("hold")} aria-expanded={open.value === "hold"}>
            {t("order.hold")}
          </button>
        )}
        {manager && allowed.has("release") && (
          <button type="button" class="button button--primary" disabled={busy.value} onClick={release}>
            {t("order.release")}
          </button>
        )}
        {manager && allowed.has("cancel") && (
          <button type="button" class="button button--secondary" onClick={() => toggle("cancel")} aria-expanded={open.value === "cancel"}>
            {t("order.cancel")}
          </button>
        )}
        {manager && EDITABLE.has(order.status) && (
          <button type="button" class="button button--secondary" onClick={() => toggle("edit")} aria-expanded={open.value === "edit"}>
            {t("order.edit")}
          </button>
        )}
        <button type="button" class="button button--quiet" onClick={() => toggle("note")} aria-expanded={open.value === "note"}>
          {t("order.addNote")}
        </button>
      </div>

      {open.value === "hold" && (
        <form class="form order-form" onSubmit={hold}>
          <div class="field">
            <label class="field__label" for="hold-reason">{t("order.holdReason")}</label>
            <select id="hold-reason" value={reason.value} onChange={(e) => (reason.value = e.currentTarget.value)}>
              {HOLD_REASONS.map((r) => (
                <option key={r} value={r}>{label("order.holdReason", r)}</option>
              ))}
            </select>
          </div>
          <div class="field">
            <label class="field__label" for="hold-note">{t("order.holdNote")}</label>
            <input id="hold-note" maxLength={500} value={text.value} onInput={(e) => (text.value = e.currentTarget.value)} />
          </div>
          <button type="submit" class="button button--primary button--block" disabled={busy.value}>{t("order.holdSubmit")}</button>
        </form>
      )}

      {open.value === "cancel" && (
        <form class="form order-form" onSubmit={cancel}>
          <p class="muted small">{t("order.cancelHint")}</p>
          {order.lines.map((l) => {
            const left = l.quantity - l.cancelled_quantity;
            if (left <= 0) return null;
            return (
              <div class="field" key={l.id}>
                <label class="field__label" for={`cancel-${l.id}`}>{t("order.cancelUnits", { sku: l.sku, left })}</label>
                <input
                  id={`cancel-${l.id}`}
                  type="number"
                  inputMode="numeric"
                  min={0}
                  max={left}
                  value={cancelQty.value[l.id] ?? ""}
                  onInput={(e) => (cancelQty.value = { ...cancelQty.value, [l.id]: e.currentTarget.value })}
                />
              </div>
            );
          })}
          <div class="field">
            <label class="field__label" for="cancel-reason">{t("order.cancelReason")}</label>
            <input id="cancel-reason" maxLength={200} value={text.value} onInput={(e) => (text.value = e.currentTarget.value)} />
          </div>
          <button type="submit" class="button button--danger button--block" disabled={busy.value}>{t("order.cancelSubmit")}</button>
        </form>
      )}

      {open.value === "edit" && (
        <form class="form order-form order-form--edit" onSubmit={edit}>
          {order.lines.map((l) => (
            <div class="field" key={l.id}>
              <label class="field__label" for={`qty-${l.id}`}>{t("order.editQuantity", { sku: l.sku })}</label>
              <input
                id={`qty-${l.id}`}
                type="number"
                inputMode="numeric"
                min={0}
                value={quantities.value[l.id] ?? ""}
                onInput={(e) => (quantities.value = { ...quantities.value, [l.id]: e.currentTarget.value })}
              />
            </div>
          ))}
          {order.delivery.address &&
            ADDRESS_FIELDS.map((f) => (
              <div class="field" key={f}>
                <label class="field__label" for={`address-${f}`}>{t(`order.address.${f}` as MessageKey)}</label>
                <input
                  id={`address-${f}`}
                  autocomplete="off"
                  maxLength={f === "country" ? 2 : 200}
                  required={f !== "line2"}
                  value={address.value[f]}
                  onInput={(e) => (address.value = { ...address.value, [f]: e.currentTarget.value })}
                />
              </div>
            ))}
          <button type="submit" class="button button--primary button--block" disabled={busy.value}>{t("order.editSubmit")}</button>
        </form>
      )}

      {open.value === "note" && (
        <form class="form order-form" onSubmit={note}>
          <div class="field">
            <label class="field__label" for="note-text">{t("order.note")}</label>
            <textarea id="note-text" maxLength={2000} rows={3} value={text.value} onInput={(e) => (text.value = e.currentTarget.value)} />
          </div>
          <button type="submit" class="button button--primary button--block" disabled={busy.value}>{t("order.noteSubmit")}</button>
        </form>
      )}

      {outcome.value && (
        <p class={`outcome outcome--${outcome.value.tone}`} role={outcome.value.tone === "refused" ? "alert" : "status"}>
          {outcome.value.text}
        </p>
      )}
    </div>
  );
}

export function OrderPage({ number }: { number: string }) {
  const { state, reload } = useCachedQuery<Order>(`order:${number}`, () =>
    unwrap(api.GET("/api/orders/{number}", { params: { path: { number } } })),
  );
  const timer = useRef<number | undefined>(undefined);
  useFollow(`order:${number}`, () => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void reload(), 100);
  });
  const mine = outboxEntries.value.filter((e) => e.subject === number && e.owner === me.value?.id);
  const order = state.data;

  return (
    <section class="screen" aria-labelledby="order-title">
      <Link href={paths.orders} class="back">
        <Icon name="back" size={20} />
        {t("orders.title")}
      </Link>
      <h1 id="order-title">{t("order.title", { number })}</h1>
      {!order && state.loading && <Loading />}
      {!order && state.error != null && <ErrorNotice message={describeError(state.error, locale.value)} onRetry={() => void reload()} />}
      {order && (
        <>
          {state.fromCache && state.savedAt && !state.loading && (
            <div class="notice notice--stale" role="status">
              <SeenAt savedAt={state.savedAt} />
            </div>
          )}
          <p class="order-head">
            <StatusBadge status={order.status} />
            <span class="muted small">
              {" "}
              {formatMoment(Date.parse(order.created_at), locale.value)} · {order.channel}
            </span>
          </p>
          {order.hold && (
            <p class="notice notice--stale" data-hold>
              {t("order.onHoldBecause", { reason: label("order.holdReason", order.hold.reason) })}
              {order.hold.note ? ` — ${order.hold.note}` : ""}
            </p>
          )}
          <Actions order={order} onDone={() => void reload()} />
          {mine.length > 0 && <ActionList entries={mine} />}

          <h2 id="order-lines" class="section-title">{t("order.lines")}</h2>
          <Lines order={order} />
          <Totals order={order} />

          <h2 class="section-title">{t("order.customer")}</h2>
          <p>
            {order.customer.name ?? t("orders.noCustomer")}
            {order.customer.email && <><br /><span class="muted">{order.customer.email}</span></>}
            {order.customer.phone && <><br /><span class="muted">{order.customer.phone}</span></>}
          </p>

          <h2 class="section-title">{t("order.delivery")}</h2>
          <p>
            {label("order.method", order.delivery.method)}
            {order.delivery.location && <><br />{order.delivery.location}</>}
            {order.delivery.address && (
              <>
                <br />
                {order.delivery.address.name}
                <br />
                {order.delivery.address.line1}
                <br />
                {order.delivery.address.postal_code} {order.delivery.address.city} ({order.delivery.address.country})
              </>
            )}
          </p>

          {me.value && MANAGERS.has(me.value.role) && <Routing number={order.number} version={order.version} />}

          <h2 id="order-timeline" class="section-title">{t("order.timeline")}</h2>
          <Timeline order={order} />
        </>
      )}
    </section>
  );
}
