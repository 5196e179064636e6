import { describe, expect, it } from "vitest";

import { orderAmounts } from "./amounts";

describe("orderAmounts", () => {
  it("shows shipping tax included, as the lines are (a 4.90 € fee is 4.90 €, not its 4.08 € net)", () => {
    // Two tees at 19.90 € and one cap at 9.90 € TTC, shipping 4.90 € TTC, VAT 20 %: the API's
    // subtotal and shipping are net of VAT.
    const order = {
      lines: [{ total: 3980 }, { total: 990 }],
      totals: { subtotal: 4142, shipping: 408, tax: 910, total: 5460 },
    };
    const amounts = orderAmounts(order);
    expect(amounts).toEqual({ goods: 4970, shipping: 490, total: 5460, vat: 910, totalExclTax: 4550 });
    expect(amounts.goods + amounts.shipping).toBe(amounts.total);
    expect(amounts.totalExclTax).toBe(order.totals.subtotal + order.totals.shipping);
  });

  it("has no shipping line amount when delivery is free", () => {
    const amounts = orderAmounts({ lines: [{ total: 6000 }], totals: { subtotal: 5000, shipping: 0, tax: 1000, total: 6000 } });
    expect(amounts.shipping).toBe(0);
    expect(amounts.goods).toBe(6000);
  });
});
