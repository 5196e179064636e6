/** Queued actions as a list: what each does, whether it is waiting, sent or refused, and why. */
import { useSignal } from "@preact/signals";

import { ApiError, describeError } from "../api/problem";
import { catalogs, locale, t, type MessageKey } from "../i18n";
import { formatMoment, signed } from "../i18n/format";
import type { OutboxEntry } from "../offline/outbox";
import { dismissAction } from "../state/outbox";

/** "Adjust TEE-BLK-M at WH-PARIS: +3": the action in the person's words. */
export function actionSentence(entry: OutboxEntry): string {
  const key = `outbox.action.${entry.kind}` as MessageKey;
  const params = { ...entry.params };
  if (typeof params.delta === "number") params.delta = signed(params.delta);
  return key in catalogs.en ? t(key, params) : entry.kind;
}

function statusDetail(entry: OutboxEntry): string | null {
  if (entry.status === "failed") {
    return describeError(new ApiError(entry.httpStatus ?? 400, entry.problem ?? null), locale.value);
  }
  if (entry.status === "pending" && entry.waitingFor) {
    return t(`outbox.waiting.${entry.waitingFor}` as MessageKey);
  }
  return null;
}

function ActionRow({ entry }: { entry: OutboxEntry }) {
  const busy = useSignal(false);
  const detail = statusDetail(entry);
  const clearable = entry.status === "sent" || entry.status === "failed";
  return (
    <li class={`action action--${entry.status}`} data-status={entry.status}>
      <div class="action__main">
        <span class="action__what">{actionSentence(entry)}</span>
        <span class="action__when muted">
          {t("outbox.takenAt", { time: formatMoment(entry.createdAt, locale.value) })}
        </span>
        {detail && (
          <span class={entry.status === "failed" ? "action__why action__why--refused" : "action__why"}>
            {detail}
          </span>
        )}
      </div>
      <span class={`status status--${entry.status}`}>{t(`outbox.status.${entry.status}`)}</span>
      {clearable && (
        <button
          type="button"
          class="button button--small button--quiet"
          disabled={busy.value}
          onClick={async () => {
            busy.value = true;
            await dismissAction(entry.id);
          }}
        >
          {t("outbox.dismiss")}
        </button>
      )}
    </li>
  );
}

export function ActionList({ entries, labelledBy }: { entries: readonly OutboxEntry[]; labelledBy?: string }) {
  return (
    <ul class="list actions" aria-labelledby={labelledBy} aria-live="polite">
      {entries.map((entry) => (
        <ActionRow key={entry.id} entry={entry} />
      ))}
    </ul>
  );
}
