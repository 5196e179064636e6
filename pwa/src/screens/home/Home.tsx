/** Home: who you are, what your role lets you do, your location and all the others. */
import { useEffect } from "preact/hooks";

import type { Location } from "../../api/client";
import { describeError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { locale, t } from "../../i18n";
import { roleLabel, roleScope } from "../../i18n/labels";
import { paths } from "../../routes";
import { loadLocations, locations } from "../../state/locations";
import { me } from "../../state/session";
import { LocationRow } from "../locations/LocationSummary";

// Stores first: that is where most of the staff work; then warehouses, then partners.
const KIND_ORDER = ["store", "warehouse", "3pl"];

function byKindThenName(a: Location, b: Location): number {
  const ka = KIND_ORDER.indexOf(a.kind);
  const kb = KIND_ORDER.indexOf(b.kind);
  return ka - kb || a.name.localeCompare(b.name);
}

export function Home() {
  const who = me.value;
  useEffect(() => {
    void loadLocations();
  }, []);
  if (!who) return null;

  const list = locations.value;
  const mine = list.state === "ready" ? list.value.find((l) => l.code === who.location) : undefined;
  return (
    <section class="screen" aria-labelledby="home-title">
      <h1 id="home-title">{t("home.hello", { name: who.name })}</h1>

      <div class="cards">
        <article class="card">
          <h2 class="card__label">{t("home.role")}</h2>
          <p class="card__value">{roleLabel(who.role)}</p>
          <p class="muted">{roleScope(who.role)}</p>
        </article>
        <article class="card">
          <h2 class="card__label">{t("home.location")}</h2>
          {who.location ? (
            <Link href={paths.location(who.location)} class="card__link">
              <Icon name="pin" size={20} />
              <span>
                <span class="card__value">{mine?.name ?? who.location}</span>
                {mine && <span class="muted"> · {mine.city}</span>}
              </span>
            </Link>
          ) : (
            <p class="card__value">{t("home.allLocations")}</p>
          )}
        </article>
      </div>

      <h2 class="section-title">
        {t("home.locations")}
        {list.state === "ready" && <span class="count">{list.value.length}</span>}
      </h2>
      {list.state === "failed" ? (
        <ErrorNotice
          message={describeError(list.error, locale.value)}
          onRetry={() => void loadLocations({ force: true })}
        />
      ) : list.state === "ready" ? (
        list.value.length ? (
          <ul class="list">
            {[...list.value].sort(byKindThenName).map((l) => (
              <LocationRow key={l.code} location={l} />
            ))}
          </ul>
        ) : (
          <p class="muted">{t("home.noLocations")}</p>
        )
      ) : (
        <Loading />
      )}
    </section>
  );
}
