/** One location: address, hours and what it does for orders (GET /api/locations/{code}). */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

import { api, unwrap, type Location } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { locale, t } from "../../i18n";
import { knownLocation } from "../../state/locations";
import { LocationBadges } from "./LocationSummary";

/** "7 days" / "7 jours", plural included, from the browser's own tables. */
function days(count: number): string {
  return new Intl.NumberFormat(locale.value, { style: "unit", unit: "day", unitDisplay: "long" })
    .format(count);
}

export function LocationPage({ code }: { code: string }) {
  const location = useSignal<Location | null>(knownLocation(code) ?? null);
  const error = useSignal<unknown>(null);

  const load = async () => {
    error.value = null;
    try {
      location.value = await unwrap(
        api.GET("/api/locations/{code}", { params: { path: { code } } }),
      );
    } catch (e) {
      error.value = e;
    }
  };
  useEffect(() => {
    void load();
  }, [code]);

  const here = location.value;
  const notFound = error.value instanceof ApiError && error.value.status === 404;
  return (
    <section class="screen" aria-labelledby="location-title">
      <Link href="/" class="back">
        <Icon name="back" size={20} />
        {t("common.back")}
      </Link>
      {notFound ? (
        <>
          <h1 id="location-title">{code}</h1>
          <ErrorNotice message={t("location.notFound")} />
        </>
      ) : here ? (
        <>
          <h1 id="location-title">{here.name}</h1>
          <p class="muted">{here.code}</p>
          <LocationBadges location={here} />
          <dl class="facts">
            <div>
              <dt>{t("location.address")}</dt>
              <dd>
                {[here.address_line1, here.address_line2].filter(Boolean).join(", ")}
                <br />
                {here.postal_code} {here.city}, {here.country}
              </dd>
            </div>
            {here.opening_hours && (
              <div>
                <dt>{t("location.hours")}</dt>
                <dd class="preline">{here.opening_hours}</dd>
              </div>
            )}
            <div>
              <dt>{t("location.timezone")}</dt>
              <dd>{here.timezone}</dd>
            </div>
            <div>
              <dt>{t("location.capacity")}</dt>
              <dd>{here.daily_order_capacity ?? t("location.noCapacity")}</dd>
            </div>
            {here.serves_pickups && (
              <div>
                <dt>{t("location.holdDays")}</dt>
                <dd>{days(here.pickup_hold_days)}</dd>
              </div>
            )}
          </dl>
          {error.value != null && (
            <ErrorNotice message={describeError(error.value, locale.value)} onRetry={load} />
          )}
        </>
      ) : error.value != null ? (
        <ErrorNotice message={describeError(error.value, locale.value)} onRetry={load} />
      ) : (
        <Loading />
      )}
    </section>
  );
}
