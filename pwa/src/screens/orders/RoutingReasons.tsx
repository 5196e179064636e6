/** A routing reason (a decision's or a location's) in the reader's language. */
import { locale } from "../../i18n";
import { explainReason, type Reason } from "./reasons";

/** `reason` said in the current language; `fallback` (the server's English sentence) for a
 * decision stored before reasons had codes. */
export function RoutingReason({ reason, fallback }: { reason: Reason | null | undefined; fallback: string }) {
  return <>{explainReason(reason, fallback, locale.value)}</>;
}
