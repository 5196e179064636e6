/**
 * The order's money as a French retail manager reads it: every amount tax included (TTC),
 * the VAT shown as a breakdown ("dont TVA"), and the total before tax below it.
 *
 * The API keeps the ledger's view (`subtotal` and `shipping` net of VAT, `tax` all VAT, each
 * line's `total` tax included, `subtotal + shipping + tax == total`). Every line's total is its
 * net plus its VAT, so the goods tax included are the sum of the lines, and shipping tax
 * included is what is left of the total: nothing is rounded again here.
 */

export interface OrderMoney {
  lines: readonly { total: number }[];
  totals: { subtotal: number; shipping: number; tax: number; total: number };
}

export interface Amounts {
  goods: number; // the lines, VAT included
  shipping: number; // shipping, VAT included
  total: number; // what the customer pays
  vat: number; // of which VAT (goods and shipping)
  totalExclTax: number; // total before VAT
}

export function orderAmounts(order: OrderMoney): Amounts {
  const goods = order.lines.reduce((sum, line) => sum + line.total, 0);
  const { tax, total } = order.totals;
  return { goods, shipping: total - goods, total, vat: tax, totalExclTax: total - tax };
}
