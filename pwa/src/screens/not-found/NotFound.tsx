/** An app path that matches no screen. */
import { Link } from "../../components/Link";
import { t } from "../../i18n";

export function NotFound() {
  return (
    <section class="screen" aria-labelledby="notfound-title">
      <h1 id="notfound-title">{t("notFound.title")}</h1>
      <p>{t("notFound.text")}</p>
      <Link href="/" class="button button--secondary">
        {t("notFound.home")}
      </Link>
    </section>
  );
}
