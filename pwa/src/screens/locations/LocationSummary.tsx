/** One location as a row of a list: name, code, kind and what it does. */
import type { Location } from "../../api/client";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { t } from "../../i18n";
import { kindLabel } from "../../i18n/labels";
import { paths } from "../../routes";

export function LocationBadges({ location }: { location: Location }) {
  return (
    <span class="badges">
      <span class={`badge badge--${location.kind}`}>{kindLabel(location.kind)}</span>
      {location.ships && <span class="badge">{t("location.ships")}</span>}
      {location.serves_pickups && <span class="badge">{t("location.pickups")}</span>}
      {!location.active && <span class="badge badge--muted">{t("location.inactive")}</span>}
    </span>
  );
}

export function LocationRow({ location }: { location: Location }) {
  return (
    <li>
      <Link href={paths.location(location.code)} class="row">
        <span class="row__main">
          <span class="row__title">{location.name}</span>
          <span class="row__sub">
            {location.code} · {location.city}
          </span>
          <LocationBadges location={location} />
        </span>
        <Icon name="chevron" size={20} />
      </Link>
    </li>
  );
}
