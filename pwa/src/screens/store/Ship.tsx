/** Handing a packed parcel to the carrier: which carrier, which tracking number. */
import { useSignal } from "@preact/signals";

import { t } from "../../i18n";
import type { WorkAction } from "./store";
import { CARRIERS } from "./work";

export function Ship({ run, busy }: { run: (action: WorkAction, body?: unknown) => Promise<void>; busy: boolean }) {
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
