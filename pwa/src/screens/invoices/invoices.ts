/** Invoices in the app: the list's filters as the API's query, rates and amounts as people read
 * them, and the credit note a manager asks for as the API's body. No I/O here. */
import type { Locale } from "../../i18n/translate";

export const INVOICE_STATUSES = ["issued", "partially_credited", "credited"] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];
/** The status filter: every status, or one of them. */
export type InvoiceStatusFilter = "" | InvoiceStatus;

export interface InvoiceFilters {
  q: string;
  status: InvoiceStatusFilter;
  /** Calendar days as the date inputs give them (`2026-12-01`), empty for no bound. */
  from: string;
  to: string;
}

export const NO_FILTERS: InvoiceFilters = { q: "", status: "", from: "", to: "" };

/** A day of the person's calendar (`YYYY-MM-DD`) → the moment it starts, in UTC ISO form. */
export function startOfDay(day: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const at = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** The moment the day after `day` starts: "to" includes the whole of its last day. */
export function endOfDay(day: string): string | undefined {
  const start = startOfDay(day);
  if (!start) return undefined;
  const at = new Date(start);
  at.setDate(at.getDate() + 1);
  return at.toISOString();
}

export interface InvoiceQuery {
  q?: string;
  status?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit: number;
}

/** The `GET /api/invoices` query for the filters (empty ones left out), and a page's cursor. */
export function invoiceQuery(f: InvoiceFilters, limit: number, cursor?: string | null): InvoiceQuery {
  const query: InvoiceQuery = { limit };
  const q = f.q.trim();
  if (q) query.q = q;
  if (f.status) query.status = f.status;
  const from = startOfDay(f.from);
  if (from) query.from = from;
  const to = endOfDay(f.to);
  if (to) query.to = to;
  if (cursor) query.cursor = cursor;
  return query;
}

/** The key the list seen for these filters is kept under on the phone. */
export function invoiceCacheKey(f: InvoiceFilters): string {
  return `invoices:${f.status}:${f.from}:${f.to}:${f.q.trim().toLowerCase()}`;
}

/** True when the dates are in the wrong order (the server would refuse: invalid_date_range). */
export function invertedRange(f: InvoiceFilters): boolean {
  return Boolean(f.from && f.to && f.from > f.to);
}

/** A VAT rate in basis points as written on an invoice: 2000 → "20 %", 550 → "5,5 %" (fr). */
export function formatRate(bp: number, locale: Locale): string {
  const value = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(bp / 100);
  // French puts a (narrow) no-break space before %, English none.
  return locale === "fr" ? `${value}\u00a0%` : `${value}%`;
}

/**
 * Fold a fresh first page into the rows shown: fresh rows replace theirs and come first
 * (newest first), the rest keep their place (an invoice's status changes with credit notes).
 */
export function mergeInvoices<T extends { number: string }>(shown: readonly T[], head: readonly T[]): T[] {
  const fresh = new Set(head.map((r) => r.number));
  return [...head, ...shown.filter((r) => !fresh.has(r.number))];
}

/** Live events that change the invoices list. */
export function touchesInvoices(type: string): boolean {
  return type === "invoice.issued" || type === "credit_note.issued";
}

export interface CreditForm {
  reason: string;
  whole: boolean;
  /** Units to credit per invoice line position, as typed. */
  quantities: Record<number, string>;
  shipping: boolean;
}

export interface CreditBody {
  reason: string;
  whole: boolean;
  lines?: { position: number; quantity: number }[];
  shipping: boolean;
}

/**
 * The `POST /api/invoices/{number}/credit-notes` body for the form, or the message key of what
 * is missing. The server checks what the invoice still holds; the phone only the form's shape.
 */
export function creditBody(form: CreditForm): CreditBody | { missing: "reason" | "what" | "quantity" } {
  const reason = form.reason.trim();
  if (!reason) return { missing: "reason" };
  if (form.whole) return { reason, whole: true, shipping: false };
  const lines: { position: number; quantity: number }[] = [];
  for (const [position, typed] of Object.entries(form.quantities)) {
    const text = typed.trim();
    if (!text) continue;
    const quantity = Number(text);
    if (!Number.isInteger(quantity) || quantity < 0) return { missing: "quantity" };
    if (quantity > 0) lines.push({ position: Number(position), quantity });
  }
  lines.sort((a, b) => a.position - b.position);
  if (!lines.length && !form.shipping) return { missing: "what" };
  const body: CreditBody = { reason, whole: false, shipping: form.shipping };
  if (lines.length) body.lines = lines;
  return body;
}

/** The PDF's address (served by the API with the session's cookie). */
export const pdfHref = (kind: "invoice" | "credit_note", number: string): string =>
  `/api/${kind === "invoice" ? "invoices" : "credit-notes"}/${encodeURIComponent(number)}.pdf`;

/** What the phone's share sheet can take: the PDF itself, only its link, or nothing. */
export function shareMode(nav: { share?: unknown; canShare?: (data: { files: File[] }) => boolean }, file?: File): "file" | "link" | "none" {
  if (typeof nav.share !== "function") return "none";
  if (file && typeof nav.canShare === "function") {
    try {
      if (nav.canShare({ files: [file] })) return "file";
    } catch {
      // A browser that knows canShare but not files: the link then.
    }
  }
  return "link";
}
