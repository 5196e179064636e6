/** Service worker registration, and a new version offered to the person instead of forced. */
import { signal } from "@preact/signals";

/** A new version, installed and waiting for the person to accept it. */
export const waitingWorker = signal<ServiceWorker | null>(null);

const CHECK_EVERY_MS = 60 * 60 * 1000; // staff phones keep the app open all day

export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !("serviceWorker" in navigator)) return;
  window.addEventListener("load", () => {
    navigator.serviceWorker
      .register("/sw.js", { scope: "/" })
      .then((registration) => {
        const offer = (worker: ServiceWorker | null) => {
          // Without a controller this is the first install, not an update.
          if (worker && navigator.serviceWorker.controller) waitingWorker.value = worker;
        };
        offer(registration.waiting);
        registration.addEventListener("updatefound", () => {
          const worker = registration.installing;
          worker?.addEventListener("statechange", () => {
            if (worker.state === "installed") offer(worker);
          });
        });
        setInterval(() => void registration.update().catch(() => undefined), CHECK_EVERY_MS);
      })
      .catch(() => undefined); // no service worker: the app still works online
  });
}

/** Switch to the waiting version and reload once it has taken control. */
export function applyUpdate(): void {
  const worker = waitingWorker.value;
  if (!worker) return;
  navigator.serviceWorker.addEventListener("controllerchange", () => location.reload(), {
    once: true,
  });
  worker.postMessage({ type: "SKIP_WAITING" });
}
