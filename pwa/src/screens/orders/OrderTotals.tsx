/** The order's totals, tax included like its lines, with the VAT and the total before tax below. */
import type { Schemas } from "../../api/client";
import { locale, t, type MessageKey } from "../../i18n";
import { formatMoney, formatNumber } from "../../i18n/format";
import { orderAmounts } from "./amounts";

type Order = Schemas["OrderDetailOut"];

export function OrderTotals({ order }: { order: Order }) {
  const money = (v: number) => formatMoney(v, order.totals.currency, locale.value);
  const amounts = orderAmounts(order);
  const rate = `${formatNumber(order.totals.vat_rate_bp / 100, locale.value)} %`;
  const rows: [MessageKey, number, string][] = [
    ["order.goods", amounts.goods, "goods"],
    ["order.shippingInclTax", amounts.shipping, "shipping"],
  ];
  return (
    <dl class="totals">
      {rows.map(([key, value, name]) => (
        <div key={key} data-amount={name}>
          <dt>{t(key)}</dt>
          <dd>{money(value)}</dd>
        </div>
      ))}
      <div class="totals__grand" data-amount="total">
        <dt>{t("order.totalInclTax")}</dt>
        <dd data-total>{money(amounts.total)}</dd>
      </div>
      <div class="totals__breakdown" data-amount="vat">
        <dt>{t("order.vatIncluded", { rate })}</dt>
        <dd>{money(amounts.vat)}</dd>
      </div>
      <div class="totals__breakdown" data-amount="excl-tax">
        <dt>{t("order.totalExclTax")}</dt>
        <dd>{money(amounts.totalExclTax)}</dd>
      </div>
    </dl>
  );
}
