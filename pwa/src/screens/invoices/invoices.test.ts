import { describe, expect, it } from "vitest";

import { en } from "../../i18n/en";
import { fr } from "../../i18n/fr";
import { activeNavPath } from "../../navigation";
import { matchRoute, paths } from "../../routes";
import {
  creditBody,
  endOfDay,
  formatRate,
  INVOICE_STATUSES,
  invertedRange,
  invoiceCacheKey,
  invoiceQuery,
  mergeInvoices,
  NO_FILTERS,
  pdfHref,
  shareMode,
  startOfDay,
  touchesInvoices,
} from "./invoices";

describe("formatRate", () => {
  it("writes VAT rates as an invoice does, in French and English", () => {
    expect(formatRate(2000, "fr")).toBe("20\u00a0%");
    expect(formatRate(550, "fr")).toBe("5,5\u00a0%");
    expect(formatRate(210, "fr")).toBe("2,1\u00a0%");
    expect(formatRate(550, "en")).toBe("5.5%");
    expect(formatRate(0, "en")).toBe("0%");
  });
});

describe("invoiceQuery", () => {
  it("sends only the filters given, the search trimmed", () => {
    expect(invoiceQuery(NO_FILTERS, 20)).toEqual({ limit: 20 });
    expect(invoiceQuery({ ...NO_FILTERS, q: "  Léa ", status: "credited" }, 20, "abc")).toEqual({
      limit: 20,
      q: "Léa",
      status: "credited",
      cursor: "abc",
    });
  });

  it("takes the whole of the last day: 'to' is the start of the next day", () => {
    const query = invoiceQuery({ ...NO_FILTERS, from: "2026-12-01", to: "2026-12-03" }, 20);
    expect(query.from).toBe(new Date(2026, 11, 1).toISOString());
    expect(query.to).toBe(new Date(2026, 11, 4).toISOString());
    expect(Date.parse(query.to!) - Date.parse(query.from!)).toBeGreaterThanOrEqual(3 * 86_400_000 - 3_600_000);
  });

  it("ignores a date that is not one", () => {
    expect(startOfDay("tomorrow")).toBeUndefined();
    expect(endOfDay("")).toBeUndefined();
    expect(invoiceQuery({ ...NO_FILTERS, from: "12/01/2026" }, 5)).toEqual({ limit: 5 });
  });

  it("says when the dates are the wrong way round", () => {
    expect(invertedRange({ ...NO_FILTERS, from: "2026-12-03", to: "2026-12-01" })).toBe(true);
    expect(invertedRange({ ...NO_FILTERS, from: "2026-12-01", to: "2026-12-01" })).toBe(false);
    expect(invertedRange({ ...NO_FILTERS, from: "2026-12-03" })).toBe(false);
  });

  it("keeps each search's list under its own key, whatever the case of the search", () => {
    expect(invoiceCacheKey({ ...NO_FILTERS, q: "Léa " })).toBe(invoiceCacheKey({ ...NO_FILTERS, q: "léa" }));
    expect(invoiceCacheKey({ ...NO_FILTERS, status: "credited" })).not.toBe(invoiceCacheKey(NO_FILTERS));
  });
});

describe("mergeInvoices", () => {
  it("puts a new invoice first and replaces a row whose status changed, keeping the rest", () => {
    const shown = [
      { number: "FA-2026-000002", status: "issued" },
      { number: "FA-2026-000001", status: "issued" },
    ];
    const head = [
      { number: "FA-2026-000003", status: "issued" },
      { number: "FA-2026-000002", status: "credited" },
    ];
    expect(mergeInvoices(shown, head)).toEqual([
      { number: "FA-2026-000003", status: "issued" },
      { number: "FA-2026-000002", status: "credited" },
      { number: "FA-2026-000001", status: "issued" },
    ]);
  });

  it("listens to invoice and credit-note events only", () => {
    expect(touchesInvoices("invoice.issued")).toBe(true);
    expect(touchesInvoices("credit_note.issued")).toBe(true);
    expect(touchesInvoices("order.captured")).toBe(false);
  });
});

describe("creditBody", () => {
  const form = { reason: "Colis abîmé", whole: false, quantities: {}, shipping: false };

  it("asks for a reason first", () => {
    expect(creditBody({ ...form, whole: true, reason: "  " })).toEqual({ missing: "reason" });
  });

  it("credits the whole invoice", () => {
    expect(creditBody({ ...form, whole: true, quantities: { 1: "2" } })).toEqual({ reason: "Colis abîmé", whole: true, shipping: false });
  });

  it("credits some units by line position, and the shipping", () => {
    expect(creditBody({ ...form, quantities: { 2: "1", 1: " 3 ", 3: "", 4: "0" }, shipping: true })).toEqual({
      reason: "Colis abîmé",
      whole: false,
      shipping: true,
      lines: [
        { position: 1, quantity: 3 },
        { position: 2, quantity: 1 },
      ],
    });
  });

  it("refuses nothing to credit and quantities that are not whole units", () => {
    expect(creditBody(form)).toEqual({ missing: "what" });
    expect(creditBody({ ...form, quantities: { 1: "0" } })).toEqual({ missing: "what" });
    expect(creditBody({ ...form, quantities: { 1: "1.5" } })).toEqual({ missing: "quantity" });
    expect(creditBody({ ...form, quantities: { 1: "-1" } })).toEqual({ missing: "quantity" });
  });
});

describe("sharing and the PDF", () => {
  it("links the PDF by its number", () => {
    expect(pdfHref("invoice", "FA-2026-000001")).toBe("/api/invoices/FA-2026-000001.pdf");
    expect(pdfHref("credit_note", "AV-2026-000001")).toBe("/api/credit-notes/AV-2026-000001.pdf");
  });

  it("shares the file where the share sheet takes files, else the link, else nothing", () => {
    const file = new File(["%PDF"], "FA.pdf", { type: "application/pdf" });
    const share = () => Promise.resolve();
    expect(shareMode({})).toBe("none");
    expect(shareMode({ share }, file)).toBe("link");
    expect(shareMode({ share, canShare: () => true }, file)).toBe("file");
    expect(shareMode({ share, canShare: () => false }, file)).toBe("link");
    expect(shareMode({ share, canShare: () => { throw new TypeError("files"); } }, file)).toBe("link");
  });
});

describe("routes and labels", () => {
  it("opens the list, an invoice and a credit note, under the Orders entry", () => {
    expect(matchRoute("/invoices")).toEqual({ screen: "invoices" });
    expect(matchRoute(paths.invoice("FA-2026-000001"))).toEqual({ screen: "invoice", number: "FA-2026-000001" });
    expect(matchRoute(paths.creditNote("AV-2026-000001"))).toEqual({ screen: "credit-note", number: "AV-2026-000001" });
    expect(activeNavPath("/invoices/FA-2026-000001")).toBe(paths.orders);
    expect(activeNavPath("/credit-notes/AV-2026-000001")).toBe(paths.orders);
  });

  it("names every status in both languages", () => {
    for (const status of INVOICE_STATUSES) {
      const key = `invoices.status.${status}` as keyof typeof en;
      expect(en[key]).toBeTruthy();
      expect(fr[key]).toBeTruthy();
      expect(fr[key]).not.toBe(en[key]);
    }
    const keys = (c: object) => Object.keys(c).filter((k) => /^(invoices?|creditNote)\./.test(k)).sort();
    expect(keys(fr)).toEqual(keys(en));
    expect(fr["invoice.openPdf"]).toBe("Ouvrir le PDF");
  });
});

describe("Issue invoice on the order page", () => {
  it("is offered once goods may have left, never before or for a cancelled order", async () => {
    const { canAskForInvoice } = await import("../orders/orders");
    for (const status of ["in_fulfillment", "partially_shipped", "shipped", "completed"]) expect(canAskForInvoice(status), status).toBe(true);
    for (const status of ["awaiting_capacity", "confirmed", "on_hold", "ready_for_pickup", "cancelled"]) expect(canAskForInvoice(status), status).toBe(false);
  });
});
