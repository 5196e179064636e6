/** The pick list: scan an item (camera, hardware scanner) or tap a line; packed or ready when all is picked. */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { Icon } from "../../components/Icon";
import { t } from "../../i18n";
import { recall, remember } from "../../offline/cache";
import {
  allPicked,
  pickOne,
  type Fulfillment,
  type FulfillmentLine,
  type Picks,
  type WorkAction,
} from "./store";
import { useScans, type Outcome, type Scan } from "./work";

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

export function Picking({
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
