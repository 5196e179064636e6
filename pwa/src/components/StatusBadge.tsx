/** An order's status as a coloured badge, in the person's language. */
import { catalogs, locale, t, type MessageKey } from "../i18n";

export function statusLabel(status: string): string {
  const key = `order.status.${status}` as MessageKey;
  return key in catalogs[locale.value] ? t(key) : status;
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`badge badge--status badge--${status}`} data-status={status}>
      {statusLabel(status)}
    </span>
  );
}
