/** One SKU: what it is, its stock at every location, and adjusting or counting it. */
import { useComputed, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { api, unwrap, type Location, type Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { ActionList } from "../../components/ActionList";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { locale, t } from "../../i18n";
import { formatMoney, formatNumber } from "../../i18n/format";
import { useCachedQuery } from "../../offline/query";
import { useFeedReturn, useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { loadLocations, locations } from "../../state/locations";
import { outboxEntries } from "../../state/outbox";
import { me } from "../../state/session";
import { ChangeStock } from "./ChangeStock";
import {
  batchAfterPause,
  changeableLocations,
  levelFromEvent,
  skusReservedBy,
  totals,
  withLiveLevels,
  type Level,
} from "./stock";

type Sku = Schemas["SkuOut"];

// Orders come in bursts: their SKU's levels are read again at most this often.
const RESERVATION_PAUSE_MS = 300;

interface SkuStock {
  sku: Sku;
  levels: Level[];
}

async function fetchSkuStock(sku: string): Promise<SkuStock> {
  const [found, page] = await Promise.all([
    unwrap(api.GET("/api/skus/{sku}", { params: { path: { sku } } })),
    unwrap(api.GET("/api/inventory", { params: { query: { sku, limit: 200 } } })),
  ]);
  return { sku: found, levels: page.items };
}

function isUnknownSku(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || error.code === "unknown_sku");
}

function StockTable({ levels, names }: { levels: readonly Level[]; names: Map<string, Location> }) {
  const sum = totals(levels);
  const n = (value: number) => formatNumber(value, locale.value);
  return (
    <div class="table-wrap">
      <table class="stock-table">
        <caption class="visually-hidden">{t("sku.stock")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("sku.location")}</th>
            <th scope="col" class="num">{t("sku.onHand")}</th>
            <th scope="col" class="num">{t("sku.reserved")}</th>
            <th scope="col" class="num">{t("sku.available")}</th>
          </tr>
        </thead>
        <tbody>
          {levels.map((level) => (
            <tr key={level.location} data-location={level.location}>
              <th scope="row">
                <span class="stock-table__name">{names.get(level.location)?.name ?? level.location}</span>
                <span class="stock-table__code mono">{level.location}</span>
              </th>
              <td class="num" data-col="on_hand">{n(level.on_hand)}</td>
              <td class="num" data-col="reserved">{n(level.reserved)}</td>
              <td class={level.available > 0 ? "num" : "num num--out"} data-col="available">
                {n(level.available)}
              </td>
            </tr>
          ))}
        </tbody>
        {levels.length > 1 && (
          <tfoot>
            <tr>
              <th scope="row">{t("sku.total")}</th>
              <td class="num">{n(sum.on_hand)}</td>
              <td class="num">{n(sum.reserved)}</td>
              <td class="num">{n(sum.available)}</td>
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}

export function SkuPage({ sku }: { sku: string }) {
  const { state, reload } = useCachedQuery(`sku:${sku}`, () => fetchSkuStock(sku));
  useEffect(() => {
    void loadLocations();
  }, []);

  // Live: each stock change of this SKU (anyone's adjustment, count, sale) replaces its level.
  const live = useSignal<Record<string, Level>>({});
  useEffect(() => {
    live.value = {}; // a fresh read has them all
  }, [sku, state.savedAt]);
  // An order reserving or giving back this SKU (a capture, an edit, a cancellation) says no
  // figures: its levels are read again, once for a burst of orders.
  const rereads = useRef<ReturnType<typeof batchAfterPause> | null>(null);
  useEffect(() => {
    const batch = batchAfterPause(RESERVATION_PAUSE_MS, () => {
      void unwrap(api.GET("/api/inventory", { params: { query: { sku, limit: 200 } } })).then(
        (page) => {
          const read = Object.fromEntries(page.items.map((level) => [level.location, level]));
          live.value = { ...live.value, ...read };
        },
        () => undefined, // offline: the figures stay as last seen until the feed comes back
      );
    });
    rereads.current = batch;
    return () => batch.cancel();
  }, [sku]);
  useFollow(`inventory:${sku}`, (event) => {
    const level = levelFromEvent(event.data);
    if (level?.sku === sku) live.value = { ...live.value, [level.location]: level };
    else if (skusReservedBy(event).includes(sku)) rereads.current?.add([sku]);
  });
  useFeedReturn(() => void reload());

  // This SKU's queued actions, newest first; when one is accepted, the figures are reloaded.
  const actions = useComputed(() =>
    outboxEntries.value.filter((e) => e.subject === sku && e.owner === me.value?.id).reverse(),
  );
  const sentCount = actions.value.filter((e) => e.status === "sent").length;
  const seenSent = useRef(sentCount);
  useEffect(() => {
    if (sentCount > seenSent.current) void reload();
    seenSent.current = sentCount;
  }, [sentCount]);

  const who = me.value;
  const allLocations = locations.value.state === "ready" ? locations.value.value : [];
  const names = new Map(allLocations.map((l) => [l.code, l]));
  const data = state.data;

  if (!data) {
    return (
      <section class="screen" aria-labelledby="sku-title">
        <Link href={paths.stock} class="back">
          <Icon name="back" size={20} />
          {t("sku.back")}
        </Link>
        <h1 id="sku-title">{sku}</h1>
        {state.error != null ? (
          <ErrorNotice
            message={isUnknownSku(state.error) ? t("sku.notFound") : describeError(state.error, locale.value)}
            onRetry={isUnknownSku(state.error) ? undefined : () => void reload()}
          />
        ) : (
          <Loading />
        )}
      </section>
    );
  }

  const variant = data.sku;
  const levels = withLiveLevels(data.levels, live.value);
  const changeable = who
    ? changeableLocations(who, allLocations, levels.map((l) => l.location))
    : [];

  return (
    <section class="screen" aria-labelledby="sku-title">
      <Link href={paths.stock} class="back">
        <Icon name="back" size={20} />
        {t("sku.back")}
      </Link>
      <div>
        <h1 id="sku-title">{variant.name}</h1>
        {variant.product_name !== variant.name && <p class="muted">{variant.product_name}</p>}
      </div>
      {(!variant.active || !variant.product_active) && (
        <span class="badge badge--muted badge--start">{t("stock.inactive")}</span>
      )}

      {state.fromCache && state.savedAt != null && (
        <div class="notice notice--stale" role="status">
          <SeenAt savedAt={state.savedAt} />
        </div>
      )}

      <dl class="facts facts--row">
        <div>
          <dt>{t("sku.sku")}</dt>
          <dd class="mono">{variant.sku}</dd>
        </div>
        <div>
          <dt>{t("sku.barcode")}</dt>
          <dd class="mono">{variant.barcode ?? t("sku.noBarcode")}</dd>
        </div>
        <div>
          <dt>{t("sku.price")}</dt>
          <dd>{formatMoney(variant.price, variant.currency, locale.value)}</dd>
        </div>
      </dl>

      <h2 class="section-title" id="sku-stock-title">
        {t("sku.stock")}
      </h2>
      {levels.length ? (
        <StockTable levels={levels} names={names} />
      ) : (
        <p class="muted">{t("sku.noStock")}</p>
      )}
      {state.error != null && !state.fromCache && (
        <ErrorNotice message={describeError(state.error, locale.value)} onRetry={() => void reload()} />
      )}

      {actions.value.length > 0 && (
        <>
          <h2 class="section-title" id="sku-actions-title">
            {t("sku.yourChanges")}
          </h2>
          <ActionList entries={actions.value} labelledBy="sku-actions-title" />
        </>
      )}

      {changeable.length ? (
        <ChangeStock
          sku={variant.sku}
          locationCodes={changeable}
          names={names}
          levels={levels}
          onApplied={() => void reload()}
        />
      ) : (
        <p class="muted">{t("sku.readOnly")}</p>
      )}
    </section>
  );
}
