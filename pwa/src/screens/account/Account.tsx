/** The signed-in person's account: who they are, their language, sign out. */
import { LanguageSwitch } from "../../components/LanguageSwitch";
import { t } from "../../i18n";
import { roleLabel } from "../../i18n/labels";
import { me } from "../../state/session";

export function Account() {
  const who = me.value;
  if (!who) return null;
  return (
    <section class="screen" aria-labelledby="account-title">
      <h1 id="account-title">{t("account.title")}</h1>
      <dl class="facts">
        <div>
          <dt>{t("account.name")}</dt>
          <dd>{who.name}</dd>
        </div>
        <div>
          <dt>{t("account.role")}</dt>
          <dd>{roleLabel(who.role)}</dd>
        </div>
        <div>
          <dt>{t("account.location")}</dt>
          <dd>{who.location ?? t("home.allLocations")}</dd>
        </div>
      </dl>
      <LanguageSwitch />
    </section>
  );
}
