/** Units this store cannot provide (missing, damaged): they leave its work, routing finds them elsewhere. */
import { useSignal } from "@preact/signals";

import { t } from "../../i18n";
import { valueLabel } from "../../i18n/labels";
import {
  type Fulfillment,
  type WorkAction,
} from "./store";
import { REJECT_REASONS } from "./work";

export function Reject({ work, run, busy }: { work: Fulfillment; run: (action: WorkAction, body?: unknown, params?: Record<string, string | number>) => Promise<void>; busy: boolean }) {
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
      { units: chosen.reduce((n, x) => n + x.quantity, 0), reason: valueLabel("fulfillment.rejectReason", reason.value) },
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
                <span>{valueLabel("fulfillment.rejectReason", r)}</span>
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
