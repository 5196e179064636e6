/** The service worker: precached app shell, and the shell for every app route when offline. */
import { clientsClaim } from "workbox-core";
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { registerRoute } from "workbox-routing";

import { isAppRoute } from "./sw-routes";

declare const self: ServiceWorkerGlobalScope;

// The build replaces self.__WB_MANIFEST with the list of files and their revisions.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// A deep link (`/orders/CMP-2026-000001`) opens the app even without network; the server's
// own paths (API, admin, tracking pages…) always go to the network.
registerRoute(
  ({ request, url }) =>
    request.mode === "navigate" && url.origin === self.location.origin && isAppRoute(url.pathname),
  createHandlerBoundToURL("index.html"),
);

// A new version waits until the person accepts it (src/state/app-update.ts), so a form
// being filled in is never reloaded under their thumb.
self.addEventListener("message", (event: ExtendableMessageEvent) => {
  if ((event.data as { type?: string } | null)?.type === "SKIP_WAITING") {
    void self.skipWaiting();
  }
});

// The first install takes control of the open page at once, so it works offline right away.
clientsClaim();
