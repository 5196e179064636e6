/** The handover at the counter: the customer's QR code or typed code, an ID check, a manager's override. */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { Icon } from "../../components/Icon";
import { locale, t } from "../../i18n";
import { formatMoment } from "../../i18n/format";
import { me } from "../../state/session";
import { checkPickupCode, ID_NOT_CHECKED, WRONG_CODE } from "./counter";
import {
  normalisePickupCode,
  type Fulfillment,
  type WorkAction,
} from "./store";
import { MANAGERS } from "../orders/orders";
import { refusalOf, useScans, type Scan } from "./work";

export function Handover({
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
