/** "As last seen on …": how old the data of a screen opened without network is. */
import { locale, t } from "../i18n";
import { formatMoment } from "../i18n/format";

export function SeenAt({ savedAt }: { savedAt: number }) {
  return (
    <p class="seen-at">
      <time dateTime={new Date(savedAt).toISOString()}>
        {t("offline.seenAt", { time: formatMoment(savedAt, locale.value) })}
      </time>
    </p>
  );
}
