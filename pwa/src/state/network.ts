/** Whether the app can reach the server; the shell shows a banner when it cannot. */
import { computed, signal } from "@preact/signals";

/** What the browser believes (the `online` / `offline` events). */
export const online = signal<boolean>(navigator.onLine);

/**
 * Whether the last request reached the server. The browser can believe it is online on a
 * shop's Wi-Fi that goes nowhere; a request that gets no answer says otherwise.
 */
export const serverReachable = signal<boolean>(true);

/** The app is working from what this phone kept. */
export const offline = computed<boolean>(() => !online.value || !serverReachable.value);

window.addEventListener("online", () => (online.value = true));
window.addEventListener("offline", () => (online.value = false));
