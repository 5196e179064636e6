/**
 * One piece of store work: the pick list (scan, hardware scanner or tap), packed or ready,
 * the handover at the counter with the customer's QR code or typed code, and rejections.
 * Every action goes through the outbox: taken offline, it is sent when the network returns.
 * A handover is queued only once this phone has checked the code (and, when the order asks
 * for it, that an ID was checked): a wrong code is refused here, network or not.
 */
import "./store.css";

import { useSignal } from "@preact/signals";
import type { ComponentType } from "preact";
import { useEffect, useRef } from "preact/hooks";

import { api, unwrap } from "../../api/client";
import { ApiError, describeError, type Problem } from "../../api/problem";
import { ActionList } from "../../components/ActionList";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { statusLabel } from "../../components/StatusBadge";
import { catalogs, locale, t, type MessageKey } from "../../i18n";
import { formatMoment } from "../../i18n/format";
import { recall, remember } from "../../offline/cache";
import type { OutboxEntry } from "../../offline/outbox";
import { useCachedQuery } from "../../offline/query";
import { useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { outboxEntries, queueAction } from "../../state/outbox";
import { me } from "../../state/session";
import { checkPickupCode, ID_NOT_CHECKED, WRONG_CODE } from "./counter";
import {
  ACTION_KIND,
  actionsFor,
  allPicked,
  normalisePickupCode,
  pickOne,
  projectedStatus,
  type Fulfillment,
  type FulfillmentLine,
  type Picks,
  type WorkAction,
} from "./store";

const LIVE_PAUSE_MS = 150;
const REJECT_REASONS = ["damaged", "not_found", "other"] as const;
// Suggestions only: the carriers themselves are configured on the server.
const CARRIERS = ["colissimo", "chronopost", "dhl", "ups", "dpd"] as const;
const MANAGERS = new Set(["manager", "admin"]);

/** A code the camera read, for the part of the page that opened the scanner (`n` tells reads apart). */
interface Scan {
  code: string;
  n: number;
  target: "item" | "qr";
}

/** Calls `handle` once for each new scan meant for `target`; scans made before mounting are old news. */
function useScans(scanned: Scan | null, target: Scan["target"], handle: (code: string) => void) {
  const seen = useRef(scanned?.n ?? 0);
  useEffect(() => {
    if (scanned && scanned.target === target && scanned.n > seen.current) {
      seen.current = scanned.n;
      handle(scanned.code);
    }
  }, [scanned?.n]);
}

type ScannerProps = { onCode: (code: string) => void; onClose: () => void; title?: string; hint?: string };
let ScannerComponent: ComponentType<ScannerProps> | null = null;

function label(prefix: string, value: string): string {
  const key = `${prefix}.${value}` as MessageKey;
  return key in catalogs.en ? t(key) : value;
}

export const workStatusLabel = (status: string): string => label("fulfillment.status", status);

const DONE_TEXT: Record<WorkAction, MessageKey> = {
  pick: "fulfillment.done.pick",
  pack: "fulfillment.done.pack",
  ship: "fulfillment.done.ship",
  "ready-for-pickup": "fulfillment.done.ready",
  handover: "fulfillment.done.handover",
  reject: "fulfillment.done.reject",
};

interface Outcome {
  tone: "done" | "queued" | "refused";
  text: string;
}

/** A refusal of the server's that the counter makes itself, in the server's words. */
const refusalOf = (problem: Problem): string => describeError(new ApiError(problem.status ?? 400, problem), locale.value);

/** The server's refusal in the counter's words; an order cancelled meanwhile says so plainly. */
function refusal(entry: OutboxEntry): string {
  const problem: Problem | null = entry.problem ?? null;
  if (problem?.code === "illegal_transition" && typeof problem.order_status === "string") {
    return t("fulfillment.refused.order", { number: String(entry.params.number), status: statusLabel(problem.order_status).toLowerCase() });
  }
  if (problem?.code === "illegal_transition" && typeof problem.current_status === "string") {
    return t("fulfillment.refused.moved", { status: workStatusLabel(problem.current_status).toLowerCase() });
  }
  return describeError(new ApiError(entry.httpStatus ?? 400, problem), locale.value);
}

/**
 * What became of an action, or null when the page says it otherwise: starting the work
 * happens by itself with the first item, and a done handover replaces the counter's form.
 */
function outcomeOf(entry: OutboxEntry, action: WorkAction): Outcome | null {
  if (entry.status === "sent") {
    return action === "pick" || action === "handover" ? null : { tone: "done", text: t(DONE_TEXT[action]) };
  }
  if (entry.status === "failed") return { tone: "refused", text: refusal(entry) };
  return { tone: "queued", text: t("fulfillment.queued") };
}

/** The scanner dialog, loaded (with its barcode reader) only when first opened. */
function useScanner() {
  const open = useSignal<null | "item" | "qr">(null);
  const failed = useSignal(false);
  const openScanner = async (which: "item" | "qr") => {
    failed.value = false;
    if (!ScannerComponent) {
      try {
        ScannerComponent = (await import("../stock/Scanner")).Scanner;
      } catch {
        failed.value = true;
        return;
      }
    }
    open.value = which;
  };
  return { open, failed, openScanner };
}

function PickLine({ line, picked, counting, onTap }: { line: FulfillmentLine; picked: number; counting: boolean; onTap: () => void }) {
  const done = picked >= line.quantity;
  const body = (
    <>
      <span class="pick-line__main">
        <span class="row__title">{line.name}</span>
        <span class="row__sub mono">
          {line.sku}
          {line.barcode && ` · ${line.barcode}`}
        </span>
        {line.rejected_quantity > 0 && <span class="row__sub">{t("fulfillment.rejectedUnits", { count: line.rejected_quantity })}</span>}
      </span>
      <span class={done ? "pick-line__count pick-line__count--done" : "pick-line__count"}>
        {counting ? t("fulfillment.pickedOf", { picked, quantity: line.quantity }) : `× ${line.quantity}`}
      </span>
    </>
  );
  return (
    <li class={`pick-line${done && counting ? " pick-line--done" : ""}`} data-sku={line.sku} data-picked={picked}>
      {counting ? (
        <button
          type="button"
          class="pick-line__tap"
          onClick={onTap}
          disabled={done}
          aria-label={t("fulfillment.tapToPick", { name: line.name, picked, quantity: line.quantity })}
        >
          {body}
        </button>
      ) : (
        <div class="pick-line__tap">{body}</div>
      )}
    </li>
  );
}

function Picking({
  work,
  status,
  run,
  busy,
  openScanner,
  scanned,
}: {
  work: Fulfillment;
  status: string;
  run: (action: WorkAction, body?: unknown, params?: Record<string, string | number>) => Promise<void>;
  busy: boolean;
  openScanner: () => void;
  scanned: Scan | null;
}) {
  const picks = useSignal<Picks>({});
  const message = useSignal<Outcome | null>(null);
  const code = useSignal("");
  const input = useRef<HTMLInputElement>(null);
  const lines = (work.lines ?? []).filter((line) => line.quantity > 0);
  const counting = status === "new" || status === "picking";
  const key = `picks:${work.id}`;
  const started = useRef(false);

  useEffect(() => {
    void recall<Picks>(key).then((kept) => {
      if (kept) picks.value = kept.value;
    });
    if (window.matchMedia?.("(pointer: fine)").matches) input.current?.focus();
  }, [key]);

  const count = (value: string) => {
    const { picks: next, result } = pickOne(lines, picks.value, value);
    if (result.outcome === "unknown") {
      message.value = { tone: "refused", text: t("fulfillment.unknownCode", { code: value.trim() }) };
      navigator.vibrate?.([80, 60, 80]);
      return;
    }
    if (result.outcome === "complete") {
      message.value = { tone: "queued", text: t("fulfillment.alreadyPicked", { name: result.line.name }) };
      return;
    }
    picks.value = next;
    void remember(key, next);
    message.value = allPicked(lines, next)
      ? { tone: "done", text: t("fulfillment.allPicked") }
      : { tone: "done", text: t("fulfillment.pickedOne", { name: result.line.name, picked: result.picked, quantity: result.line.quantity }) };
    // The first item picked starts the work on the server too.
    if (status === "new" && !started.current) {
      started.current = true;
      void run("pick");
    }
  };
  useScans(scanned, "item", (value) => counting && count(value));

  const submit = (e: Event) => {
    e.preventDefault();
    const value = code.value;
    code.value = "";
    if (value.trim()) count(value);
  };

  const complete = allPicked(lines, picks.value);
  const allowed = new Set(work.allowed_actions);
  return (
    <section class="card-section" aria-labelledby="pick-title">
      <h2 id="pick-title" class="section-title">
        {t("fulfillment.pickList")}
      </h2>
      {counting && (
        <>
          <form class="search scan-form" onSubmit={submit}>
            <div class="field search__field">
              <label class="field__label" for="pick-code">
                {t("fulfillment.scanLabel")}
              </label>
              <span class="search__row">
                <input
                  ref={input}
                  id="pick-code"
                  name="code"
                  inputMode="numeric"
                  enterKeyHint="done"
                  autocomplete="off"
                  autocapitalize="none"
                  spellcheck={false}
                  value={code.value}
                  onInput={(e) => (code.value = e.currentTarget.value)}
                />
                <button type="button" class="icon-button icon-button--field" onClick={openScanner} aria-label={t("fulfillment.scanCamera")} title={t("fulfillment.scanCamera")}>
                  <Icon name="scan" />
                </button>
              </span>
            </div>
          </form>
          <div class="outcome-region" aria-live="polite">
            {message.value && <p class={`outcome outcome--${message.value.tone}`}>{message.value.text}</p>}
          </div>
        </>
      )}
      <ul class="list pick-list" aria-labelledby="pick-title">
        {lines.map((line) => (
          <PickLine key={line.sku} line={line} picked={picks.value[line.sku] ?? 0} counting={counting} onTap={() => count(line.barcode ?? line.sku)} />
        ))}
      </ul>
      {counting && (
        <div class="button-stack">
          {status === "new" && (
            <button
              type="button"
              class="button button--secondary button--block"
              disabled={busy}
              onClick={() => {
                started.current = true;
                void run("pick");
              }}
            >
              {t("fulfillment.start")}
            </button>
          )}
          {work.kind === "pickup" ? (
            <button
              type="button"
              class="button button--primary button--block button--big"
              disabled={busy || !complete || !(allowed.has("ready-for-pickup") || status === "picking")}
              onClick={() => void run("ready-for-pickup")}
            >
              {t("fulfillment.ready")}
            </button>
          ) : (
            <button type="button" class="button button--primary button--block button--big" disabled={busy || !complete} onClick={() => void run("pack")}>
              {t("fulfillment.pack")}
            </button>
          )}
          {!complete && <p class="muted small">{t("fulfillment.pickFirst")}</p>}
          {Object.keys(picks.value).length > 0 && (
            <button
              type="button"
              class="button button--quiet button--small"
              onClick={() => {
                picks.value = {};
                void remember(key, {});
                message.value = null;
              }}
            >
              {t("fulfillment.resetPicks")}
            </button>
          )}
        </div>
      )}
      {status === "packed" && work.kind === "pickup" && (
        <button type="button" class="button button--primary button--block button--big" disabled={busy} onClick={() => void run("ready-for-pickup")}>
          {t("fulfillment.ready")}
        </button>
      )}
    </section>
  );
}

function Ship({ run, busy }: { run: (action: WorkAction, body?: unknown) => Promise<void>; busy: boolean }) {
  const carrier = useSignal<string>(CARRIERS[0]);
  const tracking = useSignal("");
  const submit = (e: Event) => {
    e.preventDefault();
    if (!carrier.value.trim() || !tracking.value.trim()) return;
    void run("ship", { carrier: carrier.value.trim(), tracking_number: tracking.value.trim() });
  };
  return (
    <form class="form" onSubmit={submit} aria-labelledby="ship-title">
      <h2 id="ship-title" class="section-title">
        {t("fulfillment.shipTitle")}
      </h2>
      <div class="field">
        <label class="field__label" for="ship-carrier">
          {t("fulfillment.carrier")}
        </label>
        <input
          id="ship-carrier"
          required
          maxLength={40}
          list="ship-carriers"
          autocomplete="off"
          autocapitalize="none"
          value={carrier.value}
          onInput={(e) => (carrier.value = e.currentTarget.value)}
        />
        <datalist id="ship-carriers">
          {CARRIERS.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
      </div>
      <div class="field">
        <label class="field__label" for="ship-tracking">
          {t("fulfillment.trackingNumber")}
        </label>
        <input id="ship-tracking" required maxLength={80} autocomplete="off" value={tracking.value} onInput={(e) => (tracking.value = e.currentTarget.value)} />
      </div>
      <button type="submit" class="button button--primary button--block button--big" disabled={busy}>
        {t("fulfillment.shipSubmit")}
      </button>
    </form>
  );
}

function Handover({
  work,
  run,
  refuse,
  busy,
  openScanner,
  scanned,
}: {
  work: Fulfillment;
  run: (action: WorkAction, body?: unknown) => Promise<void>;
  refuse: (text: string) => void;
  busy: boolean;
  openScanner: () => void;
  scanned: Scan | null;
}) {
  const code = useSignal("");
  const collectedBy = useSignal("");
  const override = useSignal("");
  const idChecked = useSignal(false);
  const checking = useSignal(false);
  const input = useRef<HTMLInputElement>(null);
  const manager = MANAGERS.has(me.value?.role ?? "");
  const needsId = work.id_check_required === true;

  useEffect(() => {
    if (window.matchMedia?.("(pointer: fine)").matches) input.current?.focus();
  }, []);

  /** What every handover sends besides the code or the override; null: not yet (no ID check). */
  const common = (): Record<string, unknown> | null => {
    if (needsId && !idChecked.value) {
      refuse(refusalOf(ID_NOT_CHECKED));
      return null;
    }
    return { collected_by: collectedBy.value.trim() || undefined, ...(needsId ? { id_checked: true } : {}) };
  };

  const handOver = async (raw: string) => {
    const given = normalisePickupCode(raw);
    if (!given || checking.value) return;
    const body = common();
    if (!body) return;
    checking.value = true;
    try {
      const verdict = await checkPickupCode(given, work.pickup_code_check);
      if (verdict !== "matches") {
        refuse(verdict === "wrong" ? refusalOf(WRONG_CODE) : t("fulfillment.cannotCheckCode"));
        return;
      }
    } finally {
      checking.value = false;
    }
    void run("handover", { code: given, ...body });
  };
  // The customer's QR code, read by the camera, hands over at once.
  useScans(scanned, "qr", (value) => {
    code.value = value;
    void handOver(value);
  });

  return (
    <section class="card-section handover" aria-labelledby="handover-title">
      <h2 id="handover-title" class="section-title">
        {t("fulfillment.handover")}
      </h2>
      <p class="muted">{t("fulfillment.handoverHint")}</p>
      {needsId && (
        <div class="id-check">
          <p class="flag flag--id">{t("fulfillment.idCheckHint")}</p>
          <label class="check">
            <input type="checkbox" name="id-checked" checked={idChecked.value} onChange={(e) => (idChecked.value = e.currentTarget.checked)} />
            <span>{t("fulfillment.idChecked")}</span>
          </label>
        </div>
      )}
      <button type="button" class="button button--primary button--block button--big" onClick={openScanner} disabled={busy}>
        <Icon name="scan" />
        {t("fulfillment.scanQr")}
      </button>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void handOver(code.value);
        }}
      >
        <div class="field">
          <label class="field__label" for="handover-code">
            {t("fulfillment.code")}
          </label>
          <input
            ref={input}
            id="handover-code"
            name="code"
            class="code-input mono"
            maxLength={40}
            autocomplete="off"
            autocapitalize="characters"
            spellcheck={false}
            enterKeyHint="done"
            value={code.value}
            onInput={(e) => (code.value = e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label class="field__label" for="handover-by">
            {t("fulfillment.collectedBy")}
          </label>
          <input id="handover-by" maxLength={200} autocomplete="off" value={collectedBy.value} onInput={(e) => (collectedBy.value = e.currentTarget.value)} />
        </div>
        <button type="submit" class="button button--secondary button--block" disabled={busy || checking.value || !code.value.trim()}>
          {checking.value ? t("fulfillment.checkingCode") : t("fulfillment.handoverSubmit")}
        </button>
      </form>
      {manager && (
        <details class="override">
          <summary>{t("fulfillment.override")}</summary>
          <form
            class="form"
            onSubmit={(e) => {
              e.preventDefault();
              if (!override.value.trim()) return;
              const body = common();
              if (body) void run("handover", { override_reason: override.value.trim(), ...body });
            }}
          >
            <div class="field">
              <label class="field__label" for="handover-override">
                {t("fulfillment.overrideReason")}
              </label>
              <input id="handover-override" maxLength={200} value={override.value} onInput={(e) => (override.value = e.currentTarget.value)} />
            </div>
            <button type="submit" class="button button--secondary button--block" disabled={busy || !override.value.trim()}>
              {t("fulfillment.overrideSubmit")}
            </button>
          </form>
        </details>
      )}
      {work.hold_until && (
        <p class="muted small">{t("fulfillment.holdUntil", { date: formatMoment(Date.parse(work.hold_until), locale.value) })}</p>
      )}
    </section>
  );
}

function Reject({ work, run, busy }: { work: Fulfillment; run: (action: WorkAction, body?: unknown, params?: Record<string, string | number>) => Promise<void>; busy: boolean }) {
  const open = useSignal(false);
  const units = useSignal<Record<string, string>>({});
  const reason = useSignal<string>(REJECT_REASONS[0]);
  const note = useSignal("");
  const error = useSignal<string | null>(null);
  const lines = (work.lines ?? []).filter((line) => line.quantity > 0);
  const submit = (e: Event) => {
    e.preventDefault();
    const chosen = lines
      .map((line) => ({ sku: line.sku, quantity: Number.parseInt(units.value[line.sku] ?? "", 10) }))
      .filter((x) => Number.isInteger(x.quantity) && x.quantity > 0);
    if (!chosen.length) {
      error.value = t("fulfillment.rejectNone");
      return;
    }
    error.value = null;
    void run(
      "reject",
      { lines: chosen, reason: reason.value, note: note.value.trim() || undefined },
      { units: chosen.reduce((n, x) => n + x.quantity, 0), reason: label("fulfillment.rejectReason", reason.value) },
    ).then(() => {
      units.value = {};
      note.value = "";
    });
  };
  return (
    <div class="reject">
      <button type="button" class="button button--quiet button--block" aria-expanded={open.value} onClick={() => (open.value = !open.value)}>
        {t("fulfillment.reject")}
      </button>
      {open.value && (
        <form class="form reject-form" onSubmit={submit}>
          <p class="muted small">{t("fulfillment.rejectHint")}</p>
          {lines.map((line) => (
            <div class="field" key={line.sku}>
              <label class="field__label" for={`reject-${line.sku}`}>
                {t("fulfillment.rejectUnits", { name: line.name, left: line.quantity })}
              </label>
              <input
                id={`reject-${line.sku}`}
                type="number"
                inputMode="numeric"
                min={0}
                max={line.quantity}
                value={units.value[line.sku] ?? ""}
                onInput={(e) => (units.value = { ...units.value, [line.sku]: e.currentTarget.value })}
              />
            </div>
          ))}
          <fieldset class="segmented">
            <legend class="segmented__legend">{t("fulfillment.rejectReason")}</legend>
            {REJECT_REASONS.map((r) => (
              <label key={r} class="segmented__option">
                <input type="radio" name="reject-reason" value={r} checked={reason.value === r} onChange={() => (reason.value = r)} />
                <span>{label("fulfillment.rejectReason", r)}</span>
              </label>
            ))}
          </fieldset>
          <div class="field">
            <label class="field__label" for="reject-note">
              {t("fulfillment.rejectNote")}
            </label>
            <input id="reject-note" maxLength={200} value={note.value} onInput={(e) => (note.value = e.currentTarget.value)} />
          </div>
          {error.value && (
            <p class="field__error" role="alert">
              {error.value}
            </p>
          )}
          <button type="submit" class="button button--secondary button--block" disabled={busy}>
            {t("fulfillment.rejectSubmit")}
          </button>
        </form>
      )}
    </div>
  );
}

function Finished({ work, status }: { work: Fulfillment; status: string }) {
  if (status !== work.status) {
    // Done on this phone, not yet on the server.
    return (
      <p class="outcome outcome--queued finished" data-finished="pending">
        {t("fulfillment.pendingStatus", { status: workStatusLabel(status) })}
      </p>
    );
  }
  if (status === "handed_over") {
    return (
      <p class="outcome outcome--done finished" data-finished="handed_over">
        {work.handed_over_at
          ? t("fulfillment.handedOverAt", { time: formatMoment(Date.parse(work.handed_over_at), locale.value) })
          : t("fulfillment.handedOver")}
        {work.collected_by && ` · ${t("fulfillment.collectedByName", { name: work.collected_by })}`}
      </p>
    );
  }
  return <p class="notice notice--stale">{workStatusLabel(status)}</p>;
}


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
  const Scanner = ScannerComponent;
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
