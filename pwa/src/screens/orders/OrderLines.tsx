/** The order's lines: what, how many, from where, and each line's amount tax included. */
import type { Schemas } from "../../api/client";
import { locale, t } from "../../i18n";
import { formatMoney } from "../../i18n/format";

type Order = Schemas["OrderDetailOut"];

export function OrderLines({ order }: { order: Order }) {
  const money = (v: number) => formatMoney(v, order.totals.currency, locale.value);
  return (
    <ul class="list lines" aria-labelledby="order-lines">
      {order.lines.map((line) => (
        <li key={line.id} class="line" data-sku={line.sku}>
          <div class="line__main">
            <span class="row__title">{line.name}</span>
            <span class="row__sub mono">{line.sku}</span>
            <span class="row__sub">
              {t("order.quantity", { quantity: line.quantity })}
              {line.cancelled_quantity > 0 && ` · ${t("order.cancelledUnits", { quantity: line.cancelled_quantity })}`}
            </span>
            {line.allocations.length > 0 && (
              <span class="row__sub">
                {t("order.allocated")}{" "}
                {line.allocations.map((a) => `${a.location} × ${a.quantity}`).join(", ")}
              </span>
            )}
          </div>
          <span class="line__total" data-line-total>{money(line.total)}</span>
        </li>
      ))}
    </ul>
  );
}
