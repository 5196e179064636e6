/** What the sections of a piece of store work share: the scanner, outcomes and refusals in words. */
import { useSignal } from "@preact/signals";
import type { ComponentType } from "preact";
import { useEffect, useRef } from "preact/hooks";

import { ApiError, describeError, type Problem } from "../../api/problem";
import { statusLabel } from "../../components/StatusBadge";
import { locale, t, type MessageKey } from "../../i18n";
import { valueLabel } from "../../i18n/labels";
import type { OutboxEntry } from "../../offline/outbox";
import type { WorkAction } from "./store";

export const LIVE_PAUSE_MS = 150;
export const REJECT_REASONS = ["damaged", "not_found", "other"] as const;
// Suggestions only: the carriers themselves are configured on the server.
export const CARRIERS = ["colissimo", "chronopost", "dhl", "ups", "dpd"] as const;

/** A code the camera read, for the part of the page that opened the scanner (`n` tells reads apart). */
export interface Scan {
  code: string;
  n: number;
  target: "item" | "qr";
}

/** Calls `handle` once for each new scan meant for `target`; scans made before mounting are old news. */
export function useScans(scanned: Scan | null, target: Scan["target"], handle: (code: string) => void) {
  const seen = useRef(scanned?.n ?? 0);
  useEffect(() => {
    if (scanned && scanned.target === target && scanned.n > seen.current) {
      seen.current = scanned.n;
      handle(scanned.code);
    }
  }, [scanned?.n]);
}

export type ScannerProps = { onCode: (code: string) => void; onClose: () => void; title?: string; hint?: string };
let ScannerComponent: ComponentType<ScannerProps> | null = null;

/** The scanner dialog once `useScanner` loaded it, else null. */
export const scannerComponent = (): ComponentType<ScannerProps> | null => ScannerComponent;

export const workStatusLabel = (status: string): string => valueLabel("fulfillment.status", status);

const DONE_TEXT: Record<WorkAction, MessageKey> = {
  pick: "fulfillment.done.pick",
  pack: "fulfillment.done.pack",
  ship: "fulfillment.done.ship",
  "ready-for-pickup": "fulfillment.done.ready",
  handover: "fulfillment.done.handover",
  reject: "fulfillment.done.reject",
};

export interface Outcome {
  tone: "done" | "queued" | "refused";
  text: string;
}

/** A refusal of the server's that the counter makes itself, in the server's words. */
export const refusalOf = (problem: Problem): string => describeError(new ApiError(problem.status ?? 400, problem), locale.value);

/** The server's refusal in the counter's words; an order cancelled meanwhile says so plainly. */
function refusal(entry: OutboxEntry): string {
  const problem: Problem | null = entry.problem ?? null;
  if (problem?.code === "illegal_transition" && typeof problem.order_status === "string") {
    return t("fulfillment.refused.order", { number: String(entry.params.number), status: statusLabel(problem.order_status).toLowerCase() });
  }
  if (problem?.code === "illegal_transition" && typeof problem.current_status === "string") {
    return t("fulfillment.refused.moved", { status: workStatusLabel(problem.current_status).toLowerCase() });
  }
  return describeError(new ApiError(entry.httpStatus ?? 400, problem), locale.value);
}

/**
 * What became of an action, or null when the page says it otherwise: starting the work
 * happens by itself with the first item, and a done handover replaces the counter's form.
 */
export function outcomeOf(entry: OutboxEntry, action: WorkAction): Outcome | null {
  if (entry.status === "sent") {
    return action === "pick" || action === "handover" ? null : { tone: "done", text: t(DONE_TEXT[action]) };
  }
  if (entry.status === "failed") return { tone: "refused", text: refusal(entry) };
  return { tone: "queued", text: t("fulfillment.queued") };
}

/** The scanner dialog, loaded (with its barcode reader) only when first opened. */
export function useScanner() {
  const open = useSignal<null | "item" | "qr">(null);
  const failed = useSignal(false);
  const openScanner = async (which: "item" | "qr") => {
    failed.value = false;
    if (!ScannerComponent) {
      try {
        ScannerComponent = (await import("../stock/Scanner")).Scanner;
      } catch {
        failed.value = true;
        return;
      }
    }
    open.value = which;
  };
  return { open, failed, openScanner };
}
