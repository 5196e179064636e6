/** The camera scanner: a full-screen dialog that reads the first barcode it sees. */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { Icon } from "../../components/Icon";
import { t } from "../../i18n";
import { createDetector } from "./barcode";

type Status = "starting" | "scanning" | "unsupported" | "no-camera" | "denied";

const SCAN_EVERY_MS = 150;

export function Scanner({
  onCode,
  onClose,
  title,
  hint,
}: {
  onCode: (code: string) => void;
  onClose: () => void;
  /** What is being scanned, when not a product's barcode (the customer's QR code). */
  title?: string;
  hint?: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const video = useRef<HTMLVideoElement>(null);
  const status = useSignal<Status>("starting");

  // A modal dialog: focus inside, Escape closes, the page behind is inert.
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.current?.showModal?.();
    return () => opener?.focus();
  }, []);

  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | null = null;
    let timer: number | undefined;

    const start = async () => {
      if (!navigator.mediaDevices?.getUserMedia) {
        status.value = "no-camera";
        return;
      }
      let detector;
      try {
        detector = await createDetector();
      } catch {
        status.value = "unsupported";
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: { ideal: "environment" } },
          audio: false,
        });
      } catch (error) {
        status.value = error instanceof DOMException && error.name === "NotAllowedError" ? "denied" : "no-camera";
        return;
      }
      const node = video.current;
      if (stopped || !node) return;
      node.srcObject = stream;
      await node.play().catch(() => undefined);
      status.value = "scanning";

      const look = async () => {
        if (stopped) return;
        try {
          if (node.readyState >= node.HAVE_CURRENT_DATA) {
            const code = (await detector.detect(node)).find((found) => found.rawValue)?.rawValue;
            if (code && !stopped) {
              navigator.vibrate?.(60);
              onCode(code);
              return;
            }
          }
        } catch {
          // A frame that could not be read: try the next one.
        }
        timer = window.setTimeout(look, SCAN_EVERY_MS);
      };
      void look();
    };
    void start();

    return () => {
      stopped = true;
      window.clearTimeout(timer);
      stream?.getTracks().forEach((track) => track.stop());
    };
  }, []);

  const message =
    status.value === "starting"
      ? t("scanner.starting")
      : status.value === "scanning"
        ? (hint ?? t("scanner.hint"))
        : status.value === "denied"
          ? t("scanner.denied")
          : status.value === "unsupported"
            ? t("scanner.unsupported")
            : t("scanner.noCamera");

  return (
    <dialog
      ref={dialog}
      class="scanner"
      aria-labelledby="scanner-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div class="scanner__bar">
        <h2 id="scanner-title">{title ?? t("scanner.title")}</h2>
        <button type="button" class="icon-button" onClick={onClose} aria-label={t("scanner.close")}>
          <Icon name="close" />
        </button>
      </div>
      <div class="scanner__view">
        <video ref={video} class="scanner__video" muted playsInline aria-hidden="true" />
        {status.value === "scanning" && <div class="scanner__frame" aria-hidden="true" />}
      </div>
      <p
        class={status.value === "starting" || status.value === "scanning" ? "scanner__hint" : "scanner__hint scanner__hint--error"}
        role={status.value === "starting" || status.value === "scanning" ? "status" : "alert"}
      >
        {message}
      </p>
    </dialog>
  );
}
