/**
 * The order's money: its payment status, balance and transactions (live: read again on every
 * `payment.*` event of the order), and for managers "Capture", "Release" and "Refund", each
 * sent through the outbox (its id is the Idempotency-Key). What may be done comes from what
 * the server says each transaction can still capture or refund.
 */
import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";

import { api, unwrap, type Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { Link } from "../../components/Link";
import { locale, t, type MessageKey } from "../../i18n";
import { formatMoment, formatMoney } from "../../i18n/format";
import { valueLabel as label } from "../../i18n/labels";
import type { OutboxEntry } from "../../offline/outbox";
import { useCachedQuery } from "../../offline/query";
import { useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { queueAction } from "../../state/outbox";
import { me } from "../../state/session";
import { MANAGERS } from "./orders";
import {
  creditNoteNumbers,
  refundedUnits,
  eurosInput,
  failureText,
  moneyActions,
  parseEuros,
  refundLines,
  refusalText,
  statusTone,
} from "./payments";

type Order = Schemas["OrderDetailOut"];
type Payments = Schemas["PaymentsOut"];
type Transaction = Schemas["TransactionOut"];
type Form = "capture" | "void" | "refund";

interface Outcome {
  tone: "done" | "queued" | "refused";
  text: string;
}

function outcomeOf(entry: OutboxEntry): Outcome {
  if (entry.status === "sent") return { tone: "done", text: t("payments.sent") };
  if (entry.status === "failed") {
    const text = refusalText(entry.problem, locale.value)
      ?? describeError(new ApiError(entry.httpStatus ?? 400, entry.problem ?? null), locale.value);
    return { tone: "refused", text };
  }
  return { tone: "queued", text: t("order.action.queued") };
}

export function OrderPayments({ order }: { order: Order }) {
  const number = order.number;
  const { state, reload } = useCachedQuery<Payments>(`order-payments:${number}`, () =>
    unwrap(api.GET("/api/orders/{number}/payments", { params: { path: { number } } })),
  );
  const timer = useRef<number | undefined>(undefined);
  useFollow(`order:${number}`, (event) => {
    if (!event.type.startsWith("payment.")) return;
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void reload(), 100);
  });
  const data = state.data;
  const money = (minor: number) => formatMoney(minor, data?.summary.currency ?? order.totals.currency, locale.value);

  return (
    <section class="order-payments" aria-labelledby="order-payments">
      <h2 id="order-payments" class="section-title">{t("payments.title")}</h2>
      {!data && state.error != null && (
        <p class="outcome outcome--refused" role="alert">{describeError(state.error, locale.value)}</p>
      )}
      {data && <Summary payments={data} money={money} />}
      {data && (
        <PaymentActions order={order} payments={data} money={money} onSent={() => void reload()} />
      )}
      {data && data.transactions.length > 0 && (
        <>
          <h3 id="order-transactions" class="subsection-title">{t("payments.transactions")}</h3>
          <ul class="list transactions" aria-labelledby="order-transactions">
            {[...data.transactions].reverse().map((tx) => (
              <TransactionRow key={tx.id} tx={tx} money={money} />
            ))}
          </ul>
        </>
      )}
      {data && data.transactions.length === 0 && <p class="muted">{t("payments.none")}</p>}
    </section>
  );
}

function Summary({ payments, money }: { payments: Payments; money: (v: number) => string }) {
  const s = payments.summary;
  const rows: [MessageKey, number, string][] = [
    ["payments.outstanding", s.outstanding, "outstanding"],
    ["payments.authorized", s.authorized, "authorized"],
    ["payments.captured", s.captured, "captured"],
    ["payments.refunded", s.refunded, "refunded"],
  ];
  return (
    <>
      <p class="payment-head">
        <span class={`badge payment-status payment-status--${statusTone(s.status)}`} data-payment-status={s.status}>
          {label("payments.status", s.status)}
        </span>
      </p>
      <dl class="payment-totals">
        <div class="payment-totals__balance" data-amount="balance">
          <dt>{t("payments.balance")}</dt>
          <dd>{money(s.balance)}</dd>
        </div>
        {rows.map(([key, value, name]) => (
          <div key={key} data-amount={name}>
            <dt>{t(key)}</dt>
            <dd>{money(value)}</dd>
          </div>
        ))}
      </dl>
      {s.pending > 0 && (
        <p class="notice notice--stale" role="status" data-pending={s.pending}>
          {t("payments.pendingCount", { count: s.pending })}
        </p>
      )}
    </>
  );
}

function TransactionRow({ tx, money }: { tx: Transaction; money: (v: number) => string }) {
  const notes = creditNoteNumbers(tx.credit_note);
  const units = refundedUnits(tx.lines);
  return (
    <li class={`tx tx--${tx.status}`} data-kind={tx.kind} data-status={tx.status} data-id={tx.id}>
      <div class="tx__head">
        <span class="tx__kind">{label("payments.kind", tx.kind)}</span>
        <span class="tx__amount">{money(tx.amount)}</span>
      </div>
      <div class="tx__sub">
        <span class={`status status--${tx.status === "succeeded" ? "sent" : tx.status}`}>
          {label("payments.txStatus", tx.status)}
        </span>
        <span class="muted small"> {formatMoment(Date.parse(tx.created_at), locale.value)}</span>
        {tx.reference && <span class="muted small mono"> · {t("payments.reference", { reference: tx.reference })}</span>}
      </div>
      {tx.failure_code && <p class="tx__failure">{failureText(tx.failure_code, locale.value)}</p>}
      {units.length > 0 && <p class="tx__lines small">{units.join(", ")}</p>}
      {tx.reason && <p class="tx__reason muted small">{tx.reason}</p>}
      {(tx.capturable ?? 0) > 0 && <p class="muted small">{t("payments.canCapture", { amount: money(tx.capturable ?? 0) })}</p>}
      {(tx.refundable ?? 0) > 0 && <p class="muted small">{t("payments.canRefund", { amount: money(tx.refundable ?? 0) })}</p>}
      {notes.map((n) => (
        <Link key={n} href={paths.creditNote(n)} class="tx__note mono">
          {t("payments.creditNote", { number: n })}
        </Link>
      ))}
    </li>
  );
}

interface ActionsProps {
  order: Order;
  payments: Payments;
  money: (v: number) => string;
  onSent: () => void;
}

function PaymentActions({ order, payments, money, onSent }: ActionsProps) {
  const open = useSignal<Form | null>(null);
  const amount = useSignal("");
  const reason = useSignal("");
  const authorization = useSignal<string>("");
  const byLines = useSignal(true);
  const quantities = useSignal<Record<string, string>>({});
  const shipping = useSignal(false);
  const problem = useSignal<string | null>(null);
  const busy = useSignal(false);
  const outcome = useSignal<Outcome | null>(null);
  // How many transactions the order had when an action was accepted: once more are listed
  // and none waits for the provider, the answer is on screen and "sent" has said its part.
  const sentWith = useSignal<number | null>(null);
  const who = me.value;
  const actions = moneyActions(payments.summary, payments.transactions, who ? MANAGERS.has(who.role) : false);
  if (!actions.capture && !actions.void && !actions.refund && !outcome.value) return null;

  const number = order.number;
  const base = `/api/orders/${encodeURIComponent(number)}/payments`;
  const chosen = actions.open.find((tx) => tx.id === authorization.value) ?? actions.open[0];
  const left = (tx: { capturable?: number } | undefined) => tx?.capturable ?? 0;

  const toggle = (which: Form) => {
    open.value = open.value === which ? null : which;
    outcome.value = null;
    sentWith.value = null;
    problem.value = null;
    reason.value = "";
    quantities.value = {};
    shipping.value = false;
    authorization.value = actions.open[0]?.id ?? "";
    amount.value = which === "capture" ? eurosInput(left(actions.open[0]), locale.value) : "";
    byLines.value = which === "refund";
  };

  const run = async (action: Parameters<typeof queueAction>[0]) => {
    busy.value = true;
    outcome.value = null;
    try {
      const entry = await queueAction(action);
      outcome.value = outcomeOf(entry);
      if (entry.status === "sent") {
        open.value = null;
        sentWith.value = payments.transactions.length;
        onSent();
      }
    } finally {
      busy.value = false;
    }
  };

  const cents = (most: number): number | null => {
    const value = parseEuros(amount.value);
    if (value === null) problem.value = t("payments.badAmount");
    else if (value > most) problem.value = t("payments.tooMuch", { amount: money(most) });
    else return value;
    return null;
  };

  const capture = (e: Event) => {
    e.preventDefault();
    problem.value = null;
    if (!chosen) return;
    const value = cents(left(chosen));
    if (value === null) return;
    void run({
      kind: "payment.capture",
      subject: number,
      params: { number, amount: money(value) },
      request: { method: "POST", url: `${base}/${chosen.id}/capture`, body: { amount: value } },
    });
  };

  const release = (e: Event) => {
    e.preventDefault();
    if (!chosen) return;
    void run({
      kind: "payment.void",
      subject: number,
      params: { number },
      request: { method: "POST", url: `${base}/${chosen.id}/void`, body: { reason: reason.value.trim() || undefined } },
    });
  };

  const refund = (e: Event) => {
    e.preventDefault();
    problem.value = null;
    const why = reason.value.trim();
    if (byLines.value) {
      const lines = refundLines(quantities.value, order.lines);
      if (!lines || lines.length === 0) {
        problem.value = t("payments.badLines");
        return;
      }
      if (!why) {
        problem.value = t("payments.reasonRequired");
        return;
      }
      void run({
        kind: "payment.refundLines",
        subject: number,
        params: { number, units: lines.reduce((n, l) => n + l.quantity, 0) },
        request: { method: "POST", url: `${base}/refund`, body: { reason: why, lines, shipping: shipping.value } },
      });
      return;
    }
    const value = cents(payments.summary.refundable);
    if (value === null) return;
    if (!why) {
      problem.value = t("payments.reasonRequired");
      return;
    }
    void run({
      kind: "payment.refund",
      subject: number,
      params: { number, amount: money(value) },
      request: { method: "POST", url: `${base}/refund`, body: { reason: why, amount: value } },
    });
  };

  const authorizationChoice = actions.open.length > 1 && (
    <div class="field">
      <label class="field__label" for="pay-authorization">{t("payments.authorization")}</label>
      <select id="pay-authorization" value={chosen?.id} onChange={(e) => (authorization.value = e.currentTarget.value)}>
        {actions.open.map((tx) => (
          <option key={tx.id} value={tx.id}>
            {t("payments.authorizationOption", { reference: tx.reference ?? tx.id.slice(0, 8), amount: money(left(tx)) })}
          </option>
        ))}
      </select>
    </div>
  );
  const amountField = (most: number) => (
    <div class="field">
      <label class="field__label" for="pay-amount">{t("payments.amount")}</label>
      <input
        id="pay-amount"
        inputMode="decimal"
        autocomplete="off"
        aria-describedby={problem.value ? "pay-amount-hint pay-problem" : "pay-amount-hint"}
        aria-invalid={problem.value !== null && open.value !== "void"}
        value={amount.value}
        onInput={(e) => (amount.value = e.currentTarget.value)}
      />
      <span id="pay-amount-hint" class="muted small">{t("payments.amountHint", { amount: money(most) })}</span>
    </div>
  );
  const typed = parseEuros(amount.value);
  const answered = sentWith.value !== null && payments.transactions.length > sentWith.value && payments.summary.pending === 0;
  const shown = outcome.value?.tone === "done" && answered ? null : outcome.value;

  return (
    <div class="payment-actions">
      <div class="button-row">
        {actions.capture && (
          <button type="button" class="button button--primary" onClick={() => toggle("capture")} aria-expanded={open.value === "capture"}>
            {t("payments.capture")}
          </button>
        )}
        {actions.void && (
          <button type="button" class="button button--secondary" onClick={() => toggle("void")} aria-expanded={open.value === "void"}>
            {t("payments.void")}
          </button>
        )}
        {actions.refund && (
          <button type="button" class="button button--secondary" onClick={() => toggle("refund")} aria-expanded={open.value === "refund"}>
            {t("payments.refund")}
          </button>
        )}
      </div>

      {open.value === "capture" && actions.capture && (
        <form class="form order-form" onSubmit={capture} noValidate aria-label={t("payments.capture")}>
          {authorizationChoice}
          {amountField(left(chosen))}
          <button type="submit" class="button button--primary button--block" disabled={busy.value}>
            {typed ? t("payments.captureSubmit", { amount: money(typed) }) : t("payments.capture")}
          </button>
        </form>
      )}

      {open.value === "void" && actions.void && (
        <form class="form order-form" onSubmit={release} noValidate aria-label={t("payments.void")}>
          {authorizationChoice}
          <p class="muted small">{t("payments.voidHint", { amount: money(left(chosen)) })}</p>
          <div class="field">
            <label class="field__label" for="pay-void-reason">{t("payments.voidReason")}</label>
            <input id="pay-void-reason" maxLength={500} value={reason.value} onInput={(e) => (reason.value = e.currentTarget.value)} />
          </div>
          <button type="submit" class="button button--danger button--block" disabled={busy.value}>{t("payments.voidSubmit")}</button>
        </form>
      )}

      {open.value === "refund" && actions.refund && (
        <form class="form order-form" onSubmit={refund} noValidate aria-label={t("payments.refund")}>
          <fieldset class="field">
            <legend class="field__label">{t("payments.refundBy")}</legend>
            <label class="check">
              <input type="radio" name="refund-by" checked={byLines.value} onChange={() => { byLines.value = true; problem.value = null; }} />
              {t("payments.byLines")}
            </label>
            <label class="check">
              <input type="radio" name="refund-by" checked={!byLines.value} onChange={() => { byLines.value = false; problem.value = null; }} />
              {t("payments.byAmount")}
            </label>
          </fieldset>
          {byLines.value &&
            order.lines.map((l) => {
              const units = l.quantity - l.cancelled_quantity;
              if (units <= 0) return null;
              return (
                <div class="field" key={l.id}>
                  <label class="field__label" for={`refund-${l.id}`}>{t("payments.refundUnits", { sku: l.sku, left: units })}</label>
                  <input
                    id={`refund-${l.id}`}
                    type="number"
                    inputMode="numeric"
                    min={0}
                    max={units}
                    value={quantities.value[l.id] ?? ""}
                    onInput={(e) => (quantities.value = { ...quantities.value, [l.id]: e.currentTarget.value })}
                  />
                </div>
              );
            })}
          {byLines.value && (
            <label class="check">
              <input type="checkbox" checked={shipping.value} onChange={(e) => (shipping.value = e.currentTarget.checked)} />
              {t("payments.refundShipping")}
            </label>
          )}
          {!byLines.value && amountField(payments.summary.refundable)}
          <div class="field">
            <label class="field__label" for="pay-refund-reason">{t("payments.refundReason")}</label>
            <input id="pay-refund-reason" required aria-required="true" maxLength={500} value={reason.value} onInput={(e) => (reason.value = e.currentTarget.value)} />
          </div>
          <button type="submit" class="button button--danger button--block" disabled={busy.value}>
            {!byLines.value && typed ? `${t("payments.refundSubmit")} ${money(typed)}` : t("payments.refundSubmit")}
          </button>
        </form>
      )}

      {problem.value && open.value && <p id="pay-problem" class="outcome outcome--refused" role="alert">{problem.value}</p>}
      {shown && (
        <p class={`outcome outcome--${shown.tone}`} role={shown.tone === "refused" ? "alert" : "status"}>
          {shown.text}
        </p>
      )}
    </div>
  );
}
