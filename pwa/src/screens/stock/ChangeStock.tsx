/** Adjusting (units in or out, with a reason) or counting a SKU at a location, online or not. */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import type { Location, Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { locale, t, type MessageKey } from "../../i18n";
import { formatNumber } from "../../i18n/format";
import { dismissAction, queueAction } from "../../state/outbox";
import { me } from "../../state/session";
import { parseWholeNumber, type Level } from "./stock";

type Mode = "adjust" | "count";
type StockChange = Schemas["StockChangeOut"];

interface Outcome {
  tone: "done" | "queued" | "refused";
  text: string;
}

interface Props {
  sku: string;
  locationCodes: string[];
  names: Map<string, Location>;
  levels: readonly Level[];
  onApplied: () => void;
}

const REASONS: MessageKey[] = [
  "sku.reason.damaged",
  "sku.reason.found",
  "sku.reason.delivery",
  "sku.reason.missing",
  "sku.reason.returned",
];

function firstChoice(codes: string[], levels: readonly Level[]): string {
  const own = me.value?.location;
  if (own && codes.includes(own)) return own;
  return codes.find((code) => levels.some((l) => l.location === code)) ?? codes[0] ?? "";
}

export function ChangeStock({ sku, locationCodes, names, levels, onApplied }: Props) {
  // An answer that comes after the person left the screen is not theirs to see here.
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const mode = useSignal<Mode>("adjust");
  const location = useSignal(firstChoice(locationCodes, levels));
  const deltaText = useSignal("");
  const reason = useSignal("");
  const countText = useSignal("");
  const busy = useSignal(false);
  const errors = useSignal<Partial<Record<"delta" | "reason" | "count", string>>>({});
  const outcome = useSignal<Outcome | null>(null);

  const where = locationCodes.includes(location.value) ? location.value : (locationCodes[0] ?? "");
  const placeName = (code: string) => names.get(code)?.name ?? code;
  const level = levels.find((l) => l.location === where);

  const step = (by: number) => {
    const current = parseWholeNumber(deltaText.value) ?? 0;
    deltaText.value = String(current + by);
    errors.value = { ...errors.value, delta: undefined };
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    outcome.value = null;
    const found: typeof errors.value = {};
    let action: Parameters<typeof queueAction>[0];
    if (mode.value === "adjust") {
      const delta = parseWholeNumber(deltaText.value);
      if (delta === null || delta === 0) found.delta = t("sku.invalidDelta");
      if (!reason.value.trim()) found.reason = t("sku.reasonRequired");
      errors.value = found;
      if (found.delta || found.reason || delta === null) return;
      action = {
        kind: "stock.adjust",
        subject: sku,
        params: { sku, location: where, delta },
        request: {
          method: "POST",
          url: "/api/inventory/adjustments",
          body: { location: where, sku, delta, reason: reason.value.trim() },
        },
      };
    } else {
      const counted = parseWholeNumber(countText.value);
      if (counted === null || counted < 0) found.count = t("sku.invalidCount");
      errors.value = found;
      if (found.count || counted === null) return;
      action = {
        kind: "stock.count",
        subject: sku,
        params: { sku, location: where, on_hand: counted },
        request: { method: "POST", url: "/api/inventory/counts", body: { location: where, sku, on_hand: counted } },
      };
    }

    busy.value = true;
    try {
      const entry = await queueAction(action);
      if (!mounted.current) return; // the list of actions (banner, /outbox) tells what happened
      if (entry.status === "sent") {
        const change = entry.response as StockChange | undefined;
        outcome.value =
          change && !change.movement
            ? { tone: "done", text: t("sku.unchanged", { location: placeName(where) }) }
            : {
                tone: "done",
                text: t("sku.applied", {
                  on_hand: formatNumber(change?.level.on_hand ?? 0, locale.value),
                  location: placeName(where),
                }),
              };
        deltaText.value = "";
        reason.value = "";
        countText.value = "";
        onApplied();
      } else if (entry.status === "failed") {
        outcome.value = {
          tone: "refused",
          text: describeError(new ApiError(entry.httpStatus ?? 400, entry.problem ?? null), locale.value),
        };
        // Refused while the person is looking: said here, so not kept in the list as well.
        await dismissAction(entry.id);
      } else {
        outcome.value = { tone: "queued", text: t("sku.queued") };
        deltaText.value = "";
        reason.value = "";
        countText.value = "";
      }
    } catch (error) {
      outcome.value = { tone: "refused", text: describeError(error, locale.value) };
    } finally {
      busy.value = false;
      // The answer shows below the button; bring it into view if the bottom bar hides it.
      requestAnimationFrame(() =>
        document.querySelector(".change .outcome")?.scrollIntoView({ block: "nearest" }),
      );
    }
  };

  const invalid = errors.value;
  return (
    <form class="form card change" onSubmit={submit} noValidate aria-labelledby="change-title">
      <h2 id="change-title" class="form__title">
        {t("sku.change")}
      </h2>

      <fieldset class="segmented segmented--tight">
        <legend class="segmented__legend">{t("sku.changeMode")}</legend>
        {(["adjust", "count"] as const).map((choice) => (
          <label key={choice} class="segmented__option">
            <input
              type="radio"
              name="change-mode"
              value={choice}
              checked={mode.value === choice}
              onChange={() => {
                mode.value = choice;
                errors.value = {};
                outcome.value = null;
              }}
            />
            <span>{t(choice === "adjust" ? "sku.adjust" : "sku.count")}</span>
          </label>
        ))}
      </fieldset>

      {locationCodes.length > 1 ? (
        <div class="field">
          <label class="field__label" for="change-location">
            {t("sku.changeAt")}
          </label>
          <select
            id="change-location"
            value={where}
            onChange={(e) => (location.value = e.currentTarget.value)}
          >
            {locationCodes.map((code) => (
              <option key={code} value={code}>
                {placeName(code)} ({code})
              </option>
            ))}
          </select>
        </div>
      ) : (
        <div class="field">
          <span class="field__label">{t("sku.changeAt")}</span>
          <span class="field__static">
            {placeName(where)} <span class="muted mono nowrap">({where})</span>
          </span>
        </div>
      )}

      {mode.value === "adjust" ? (
        <>
          <div class="field">
            <label class="field__label" for="change-delta">
              {t("sku.delta")}
            </label>
            <div class="stepper">
              <button type="button" class="stepper__button" onClick={() => step(-1)} aria-label={t("sku.less")}>
                <Icon name="minus" />
              </button>
              <input
                id="change-delta"
                name="delta"
                inputMode="numeric"
                autocomplete="off"
                value={deltaText.value}
                aria-invalid={invalid.delta ? true : undefined}
                aria-describedby={invalid.delta ? "change-delta-error" : undefined}
                onInput={(e) => (deltaText.value = e.currentTarget.value)}
              />
              <button type="button" class="stepper__button" onClick={() => step(1)} aria-label={t("sku.more")}>
                <Icon name="plus" />
              </button>
            </div>
            {invalid.delta && (
              <p id="change-delta-error" class="field__error">
                {invalid.delta}
              </p>
            )}
          </div>
          <div class="field">
            <label class="field__label" for="change-reason">
              {t("sku.reason")}
            </label>
            <input
              id="change-reason"
              name="reason"
              list="change-reasons"
              maxLength={200}
              autocomplete="off"
              value={reason.value}
              aria-invalid={invalid.reason ? true : undefined}
              aria-describedby={invalid.reason ? "change-reason-help change-reason-error" : "change-reason-help"}
              onInput={(e) => (reason.value = e.currentTarget.value)}
            />
            <datalist id="change-reasons">
              {REASONS.map((key) => (
                <option key={key} value={t(key)} />
              ))}
            </datalist>
            <span id="change-reason-help" class="field__help">
              {t("sku.reasonHelp")}
            </span>
            {invalid.reason && (
              <span id="change-reason-error" class="field__error">
                {invalid.reason}
              </span>
            )}
          </div>
        </>
      ) : (
        <div class="field">
          <label class="field__label" for="change-count">
            {t("sku.counted")}
          </label>
          <input
            id="change-count"
            name="on_hand"
            inputMode="numeric"
            autocomplete="off"
            value={countText.value}
            aria-invalid={invalid.count ? true : undefined}
            aria-describedby={invalid.count ? "change-count-help change-count-error" : "change-count-help"}
            onInput={(e) => (countText.value = e.currentTarget.value)}
          />
          <span id="change-count-help" class="field__help">
            {t("sku.booksSay", { on_hand: formatNumber(level?.on_hand ?? 0, locale.value) })}
          </span>
          {invalid.count && (
            <span id="change-count-error" class="field__error">
              {invalid.count}
            </span>
          )}
        </div>
      )}

      <button type="submit" class="button button--primary button--block" disabled={busy.value}>
        {busy.value ? t("sku.saving") : t(mode.value === "adjust" ? "sku.saveAdjust" : "sku.saveCount")}
      </button>

      {/* Always in the page, so screen readers announce what is written into it. */}
      <div role="status" class="outcome-region">
        {outcome.value && outcome.value.tone !== "refused" && (
          <p class={`outcome outcome--${outcome.value.tone}`}>{outcome.value.text}</p>
        )}
      </div>
      {outcome.value?.tone === "refused" && (
        <p class="outcome outcome--refused" role="alert">
          {outcome.value.text}
        </p>
      )}
    </form>
  );
}
