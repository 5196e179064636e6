/** What happened to the order, newest first: what (from the event's type), why, when and who. */
import type { Schemas } from "../../api/client";
import { locale } from "../../i18n";
import { formatMoment } from "../../i18n/format";
import { actorLabel, eventLabel, valueLabel } from "../../i18n/labels";

type Order = Schemas["OrderDetailOut"];
type Event = Order["timeline"][number];

// Reasons are codes for holds (a release says the hold's) and store rejections, free text a person
// typed for cancellations, or the hold's code when a fraud review rejected the order.
const REASONS: Record<string, string> = {
  "order.held": "order.holdReason",
  "order.released": "order.holdReason",
  "order.cancelled": "order.holdReason",
  "fulfillment.rejected": "fulfillment.rejectReason",
};
// Reasons Comptoir wrote for itself (in English): the event's label already says it.
const OWN_WORDS = new Set(["order.awaiting_capacity", "order.routed"]);

function reason(e: Event): string | null {
  const value = e.data.reason;
  if (typeof value !== "string" || OWN_WORDS.has(e.type)) return null;
  const prefix = REASONS[e.type];
  return prefix ? valueLabel(prefix, value) : value;
}

export function OrderTimeline({ order }: { order: Order }) {
  const events = [...order.timeline].reverse();
  return (
    <ol class="timeline" aria-labelledby="order-timeline">
      {events.map((e, i) => {
        const why = reason(e);
        return (
          <li key={`${e.seq ?? i}-${e.type}`} class="timeline__event" data-type={e.type}>
            <span class="timeline__what">{eventLabel(e.type)}</span>
            {why && <span class="muted"> · {why}</span>}
            {typeof e.data.text === "string" && <span class="timeline__note">{e.data.text}</span>}
            <span class="muted small timeline__when">
              <time dateTime={e.at}>{formatMoment(Date.parse(e.at), locale.value)}</time> ·{" "}
              {/* An order kept on this phone before names came with the events shows the raw actor. */}
              <span class="timeline__who" data-actor-kind={e.by?.kind}>{e.by ? actorLabel(e.by) : e.actor}</span>
            </span>
          </li>
        );
      })}
    </ol>
  );
}
