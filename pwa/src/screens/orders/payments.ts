/**
 * The order's money in the app, pure: what a manager may still do with it (read from what the
 * server says each transaction can still capture or refund, never decided again here), euros
 * typed by a person turned into cents, and the sentences for statuses and failure codes.
 */
import { ERROR_CODES, errorMessages, type ErrorCode } from "../../api/errors.gen";
import type { Problem } from "../../api/problem";
import { addCatalogs } from "../../i18n";
import { paymentsEn } from "../../i18n/payments.en";
import { paymentsFr } from "../../i18n/payments.fr";
import type { Locale } from "../../i18n/translate";

// The payment section's words come with it, not with the first page.
addCatalogs({ en: paymentsEn, fr: paymentsFr });

export const PAYMENT_STATUSES = [
  "unpaid",
  "authorized",
  "partially_captured",
  "paid",
  "partially_refunded",
  "refunded",
  "overpaid",
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** A transaction as this module reads it (the API's `TransactionOut`). */
export interface Tx {
  id: string;
  kind: string; // authorization | capture | void | refund
  status: string; // pending | succeeded | failed
  capturable?: number;
  refundable?: number;
  credit_note?: string | null;
  reference?: string | null;
}

/** The order's money at a glance (the API's `PaymentSummaryOut`). */
export interface Summary {
  status: string;
  capturable: number;
  refundable: number;
}

export interface MoneyActions {
  /** Authorizations something can still be captured on (or released), oldest first. */
  open: Tx[];
  capture: boolean;
  void: boolean;
  refund: boolean;
}

/**
 * What a manager may do now: capture on or release an authorization that still holds money,
 * refund when captured money is not given back yet. Others see no action at all.
 */
export function moneyActions(summary: Summary, transactions: readonly Tx[], manager: boolean): MoneyActions {
  const open = transactions.filter((tx) => canCaptureOn(tx));
  return {
    open,
    capture: manager && summary.capturable > 0 && open.length > 0,
    void: manager && open.length > 0,
    refund: manager && summary.refundable > 0,
  };
}

/** An authorization that succeeded and still holds money (not voided, not all captured). */
export function canCaptureOn(tx: Tx): boolean {
  return tx.kind === "authorization" && tx.status === "succeeded" && (tx.capturable ?? 0) > 0;
}

/** The status's catalogue key; a status added to the server after this build shows as itself. */
export function isPaymentStatus(status: string): status is PaymentStatus {
  return (PAYMENT_STATUSES as readonly string[]).includes(status);
}

/** How the status badge reads: settled well, waiting, or something to look at. */
export function statusTone(status: string): "good" | "waiting" | "attention" | "neutral" {
  switch (status) {
    case "paid":
      return "good";
    case "authorized":
    case "partially_captured":
      return "waiting";
    case "overpaid":
    case "unpaid":
      return "attention";
    default:
      return "neutral";
  }
}

const AMOUNT = /^(\d{1,9})(?:[.,](\d{1,2}))?$/;

/**
 * "12,50" / "12.5" / "1 234,00 €" → cents (1250, 1250, 123400); null for what is not a positive
 * amount in euros and cents: empty, zero, negative, letters, or more than two decimals
 * ("12,345" is refused, not read as twelve thousand).
 */
export function parseEuros(text: string): number | null {
  const cleaned = text.replace(/[\s\u00a0\u202f]/g, "").replace(/€$/, "");
  const match = AMOUNT.exec(cleaned);
  if (!match) return null;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? "0").padEnd(2, "0"));
  return cents > 0 ? cents : null;
}

/** Cents → what a person types back in the field ("1234,50" in French, "1234.50" in English). */
export function eurosInput(cents: number, locale: Locale): string {
  const text = (cents / 100).toFixed(2);
  return locale === "fr" ? text.replace(".", ",") : text;
}

/** A refund's credit notes ("AV-2026-000001, AV-2026-000002"), one number each. */
export function creditNoteNumbers(value: string | null | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
}

/** A refund's lines as people read them: "CARNET-05 × 2". */
export function refundedUnits(lines: readonly Record<string, unknown>[] | null | undefined): string[] {
  return (lines ?? []).flatMap((line) =>
    typeof line.sku === "string" && typeof line.quantity === "number" ? [`${line.sku} \u00d7 ${line.quantity}`] : [],
  );
}

const isErrorCode = (code: string): code is ErrorCode => (ERROR_CODES as readonly string[]).includes(code);

/** A provider's failure code in words (the error catalogue), else the code itself. */
export function failureText(code: string, locale: Locale): string {
  return isErrorCode(code) ? errorMessages[locale][code] : code;
}

/**
 * A refusal of a money action in the catalogue's sentence for its `code` (the server's
 * `detail` counts in cents, which a manager does not read), or null to let the app's general
 * description speak.
 */
export function refusalText(problem: Problem | null | undefined, locale: Locale): string | null {
  const code = problem?.code;
  return code && isErrorCode(code) ? errorMessages[locale][code] : null;
}

export interface RefundLineChoice {
  line_id: string;
  quantity: number;
}

/**
 * The lines a refund by lines names: the quantities typed, whole and between 1 and what is
 * left of each line; null when one of them is not (empty fields are lines not refunded).
 */
export function refundLines(
  typed: Record<string, string>,
  lines: readonly { id: string; quantity: number; cancelled_quantity: number }[],
): RefundLineChoice[] | null {
  const chosen: RefundLineChoice[] = [];
  for (const line of lines) {
    const text = (typed[line.id] ?? "").trim();
    if (!text) continue;
    if (!/^\d+$/.test(text)) return null;
    const quantity = Number(text);
    if (quantity === 0) continue;
    if (quantity > line.quantity - line.cancelled_quantity) return null;
    chosen.push({ line_id: line.id, quantity });
  }
  return chosen;
}
