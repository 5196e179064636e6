/** An order's status as a coloured badge, in the person's language. */
import { valueLabel } from "../i18n/labels";

export const statusLabel = (status: string): string => valueLabel("order.status", status);

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`badge badge--status badge--${status}`} data-status={status}>
      {statusLabel(status)}
    </span>
  );
}
