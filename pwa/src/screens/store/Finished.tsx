/** Work that is over: handed over (when, to whom) or its final status; or done here, not yet sent. */
import { locale, t } from "../../i18n";
import { formatMoment } from "../../i18n/format";
import {
  type Fulfillment,
} from "./store";
import { workStatusLabel } from "./work";

export function Finished({ work, status }: { work: Fulfillment; status: string }) {
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
