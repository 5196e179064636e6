/** Actions to send: everything queued on this phone by the signed-in person, and their fate. */
import { useSignal } from "@preact/signals";

import { ActionList } from "../../components/ActionList";
import { t } from "../../i18n";
import { online } from "../../state/network";
import { outboxEntries, sendQueued } from "../../state/outbox";
import { me } from "../../state/session";

export function OutboxPage() {
  const busy = useSignal(false);
  const who = me.value;
  const all = outboxEntries.value;
  const mine = all.filter((e) => e.owner === who?.id).reverse();
  const othersWaiting = all.filter(
    (e) => e.owner !== who?.id && (e.status === "pending" || e.status === "sending"),
  ).length;
  const waiting = mine.some((e) => e.status === "pending");

  return (
    <section class="screen" aria-labelledby="outbox-title">
      <h1 id="outbox-title">{t("outbox.title")}</h1>
      {mine.length ? (
        <ActionList entries={mine} labelledBy="outbox-title" />
      ) : (
        <p class="muted">{t("outbox.empty")}</p>
      )}
      {waiting && (
        <button
          type="button"
          class="button button--primary button--block"
          disabled={busy.value || !online.value}
          onClick={async () => {
            busy.value = true;
            try {
              await sendQueued({ force: true });
            } finally {
              busy.value = false;
            }
          }}
        >
          {t("outbox.sendNow")}
        </button>
      )}
      {othersWaiting > 0 && <p class="muted">{t("outbox.othersWaiting", { count: othersWaiting })}</p>}
    </section>
  );
}
