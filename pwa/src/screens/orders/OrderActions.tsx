/** What staff do to an order from its page: hold, release, cancel, edit, add a note. */
import { useSignal } from "@preact/signals";

import type { Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { locale, t, type MessageKey } from "../../i18n";
import { valueLabel as label } from "../../i18n/labels";
import type { OutboxEntry } from "../../offline/outbox";
import { queueAction } from "../../state/outbox";
import { me } from "../../state/session";
import { SUSPECTED_FRAUD } from "../reviews/reviews";
import { MANAGERS } from "./orders";

type Order = Schemas["OrderDetailOut"];
type Line = Schemas["LineOut"];

const HOLD_REASONS = ["address_check", "suspected_fraud", "customer_request", "stock_problem"] as const;
// Lines and delivery can change until fulfillment starts.
const EDITABLE = new Set(["awaiting_capacity", "confirmed", "on_hold"]);
const ADDRESS_FIELDS = ["name", "line1", "line2", "postal_code", "city", "country"] as const;
type AddressField = (typeof ADDRESS_FIELDS)[number];

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

export function OrderActions({ order, onDone }: { order: Order; onDone: () => void }) {
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
  // An order held as suspected fraud is approved or rejected, as from the review queue.
  const fraudHold = manager && order.status === "on_hold" && order.hold?.reason === SUSPECTED_FRAUD;
  const decide = (decision: "approve" | "reject") =>
    void run({
      kind: `order.${decision}`,
      subject: number,
      params: { number },
      request: { method: "POST", url: `/api/orders/${encodeURIComponent(number)}/${decision}` },
    });
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
        {fraudHold && (
          <>
            <button type="button" class="button button--primary" disabled={busy.value} onClick={() => decide("approve")}>
              {t("reviews.approve")}
            </button>
            <button type="button" class="button button--danger" disabled={busy.value} onClick={() => decide("reject")}>
              {t("reviews.reject")}
            </button>
          </>
        )}
        {manager && !fraudHold && allowed.has("release") && (
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
