/** The signed-in person's account: who they are, their language, sign out. */
import { Icon } from "../../components/Icon";
import { LanguageSwitch } from "../../components/LanguageSwitch";
import { Link } from "../../components/Link";
import { paths } from "../../routes";
import { MANAGERS } from "../orders/orders";
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
      {MANAGERS.has(who.role) && (
        <p>
          <Link href={paths.invoices} class="button button--secondary button--block" data-invoices-link>
            <Icon name="invoice" />
            {t("invoices.title")}
          </Link>
        </p>
      )}
      <LanguageSwitch />
    </section>
  );
}
