/** Entry point: styles, language on <html>, session restore, outbox, service worker, first render. */
import { effect } from "@preact/signals";
import { render } from "preact";

import "./styles.css";
import { App } from "./app";
import { locale } from "./i18n";
import { registerServiceWorker } from "./state/app-update";
import { startOutbox } from "./state/outbox";
import { restoreSession } from "./state/session";

effect(() => {
  document.documentElement.lang = locale.value;
});

void restoreSession();
startOutbox();
registerServiceWorker();
render(<App />, document.getElementById("app")!);
