/**
 * The day's reconciliation (managers): for a day of the shop's calendar, what left and was
 * not charged, what was charged and not invoiced, refunds without a credit note, invoices
 * that differ from payments, and provider calls still waiting; each section with its count,
 * its total and its orders, and the same report as a CSV file.
 */
import "../orders/orders.css";
import "./reconciliation.css";

import { useSignal } from "@preact/signals";

import { api, unwrap, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { locale, t } from "../../i18n";
import { formatMoney } from "../../i18n/format";
import { useCachedQuery } from "../../offline/query";
import { useFeedReturn } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { csvHref, formatTotals, isDay, reconciliationQuery, reportCacheKey, sectionHint, sectionTitle, todayIn } from "./reconciliation";

type Report = Schemas["ReconciliationOut"];
type Section = Schemas["SectionOut"];
type Finding = Schemas["FindingOut"];

function FindingRow({ finding }: { finding: Finding }) {
  const documents = (finding.links ?? []).filter((link) => link.kind !== "order");
  return (
    <li class="finding" data-order={finding.order_number}>
      <Link
        href={paths.order(finding.order_number)}
        class="row finding__row"
        aria-label={t("reconciliation.openOrder", { number: finding.order_number })}
      >
        <span class="row__main">
          <span class="row__title mono">{finding.order_number}</span>
          <span class="row__sub">{finding.detail}</span>
        </span>
        <span class="order-row__side">
          <span class="order-row__total" data-amount={finding.amount}>
            {formatMoney(finding.amount, finding.currency, locale.value)}
          </span>
        </span>
        <Icon name="chevron" size={20} />
      </Link>
      {documents.length > 0 && (
        <p class="finding__documents small">
          <span class="muted">{t("reconciliation.documents")} </span>
          {documents.map((link, i) => (
            <span key={link.path}>
              {i > 0 && ", "}
              <Link href={link.path} class="mono">{link.label}</Link>
            </span>
          ))}
        </p>
      )}
    </li>
  );
}

function SectionView({ section }: { section: Section }) {
  const id = `reconciliation-${section.section}`;
  const hint = sectionHint(section.section);
  const total = formatTotals(section.totals, locale.value);
  return (
    <section class="reconciliation__section" data-section={section.section} data-count={section.count} aria-labelledby={id}>
      <h2 class="section-title" id={id}>
        {t(sectionTitle(section.section))}
        <span class="badge reconciliation__count" data-empty={section.count === 0 ? "" : undefined}>
          {section.count}
        </span>
      </h2>
      {hint && <p class="muted small">{t(hint)}</p>}
      {section.count === 0 ? (
        <p class="reconciliation__nothing">{t("reconciliation.nothing")}</p>
      ) : (
        <>
          <p class="reconciliation__total">{t("reconciliation.total", { amount: total })}</p>
          <ul class="list" aria-labelledby={id}>
            {section.findings.map((finding) => (
              <FindingRow key={`${finding.order_number}:${finding.transaction_id ?? ""}`} finding={finding} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

export function Reconciliation() {
  const day = useSignal(todayIn());
  const lang = locale.value;
  const asked = day.value;
  const { state, reload } = useCachedQuery<Report>(reportCacheKey(asked, lang), () =>
    unwrap(api.GET("/api/reports/reconciliation", { params: { query: reconciliationQuery(asked, lang) } })),
  );
  useFeedReturn(() => void reload());
  const report = state.data;

  return (
    <section class="screen reconciliation" aria-labelledby="reconciliation-title">
      <h1 id="reconciliation-title">{t("reconciliation.title")}</h1>
      <form class="filters reconciliation__controls" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label class="field__label" for="reconciliation-day">{t("reconciliation.day")}</label>
          <input
            id="reconciliation-day"
            type="date"
            value={asked}
            max={todayIn()}
            aria-describedby="reconciliation-day-hint"
            onChange={(e) => {
              const value = e.currentTarget.value;
              day.value = isDay(value) ? value : todayIn();
            }}
          />
          <p class="muted small" id="reconciliation-day-hint">{t("reconciliation.dayHint")}</p>
        </div>
        <a class="button button--secondary reconciliation__csv" href={csvHref(asked, lang)} download data-csv>
          {t("reconciliation.download")}
        </a>
      </form>

      {!report && state.loading && <Loading />}
      {!report && state.error != null && <ErrorNotice message={describeError(state.error, lang)} onRetry={() => void reload()} />}
      {report && (
        <>
          {state.fromCache && state.savedAt && !state.loading && (
            <div class="notice notice--stale" role="status">
              <SeenAt savedAt={state.savedAt} />
            </div>
          )}
          {report.clean && (
            <p class="notice reconciliation__clean" role="status">
              {t("reconciliation.clean")}
            </p>
          )}
          {report.sections.map((section) => (
            <SectionView key={section.section} section={section} />
          ))}
        </>
      )}
    </section>
  );
}
