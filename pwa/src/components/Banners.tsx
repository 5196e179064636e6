/** Bars above the content: offline, actions waiting or refused, a new version ready to install. */
import { t } from "../i18n";
import { paths } from "../routes";
import { applyUpdate, waitingWorker } from "../state/app-update";
import { offline } from "../state/network";
import { refusedActions, waitingActions } from "../state/outbox";
import { currentPath } from "../state/router";
import { reconnecting } from "../state/session";
import { Icon } from "./Icon";
import { Link } from "./Link";

function OutboxBanner() {
  const waiting = waitingActions.value.length;
  const refused = refusedActions.value.length;
  if ((!waiting && !refused) || currentPath.value === paths.outbox) return null;
  return (
    <div class={refused ? "banner banner--refused" : "banner banner--outbox"} role="status">
      <Icon name="clock" size={20} />
      <span class="banner__text">
        {waiting > 0 && <span>{t("outbox.waitingCount", { count: waiting })}</span>}
        {refused > 0 && <span>{t("outbox.refusedCount", { count: refused })}</span>}
      </span>
      <Link href={paths.outbox} class="banner__link">
        {t("outbox.open")}
      </Link>
    </div>
  );
}

export function Banners() {
  return (
    <>
      {offline.value && (
        <div class="banner banner--offline" role="status">
          <Icon name="offline" size={20} />
          <span>{t("network.offline")}</span>
        </div>
      )}
      {reconnecting.value && !offline.value && (
        <div class="banner banner--offline" role="status">
          <span>{t("session.reconnecting")}</span>
        </div>
      )}
      <OutboxBanner />
      {waitingWorker.value && (
        <div class="banner banner--update" role="status">
          <span>{t("update.ready")}</span>
          <button type="button" class="button button--small" onClick={applyUpdate}>
            {t("update.reload")}
          </button>
        </div>
      )}
    </>
  );
}
