/** A store's work: to pick, picking, ready at the counter, collected today — live, and offline as last seen. */
import "./store.css";

import { useEffect, useRef } from "preact/hooks";

import { api, unwrap } from "../../api/client";
import { describeError, NetworkError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { locale, t, type MessageKey } from "../../i18n";
import { formatMoment } from "../../i18n/format";
import { remember } from "../../offline/cache";
import { useCachedQuery } from "../../offline/query";
import { useFeedReturn, useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { loadLocations, locations } from "../../state/locations";
import { outboxEntries } from "../../state/outbox";
import { me } from "../../state/session";
import {
  actionsFor,
  GROUPS,
  groupQueue,
  projectedStatus,
  QUEUE_STATUSES,
  startOfToday,
  unitsLeft,
  type Fulfillment,
  type GroupName,
} from "./store";
import { chosenStore, chooseStore } from "./where";

// Several events in a burst (a capture, its allocation…) make one reload.
const LIVE_PAUSE_MS = 150;
// Today's handovers, the latest first: more than this in a day shows the latest ones.
const MAX_HANDOVER_PAGES = 3;

type Query = { status?: string; handed_over_since?: string };

async function fetchPages(location: string, query: Query, pages: number): Promise<Fulfillment[]> {
  const items: Fulfillment[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < pages; page++) {
    const answer = await unwrap(
      api.GET("/api/fulfillments", { params: { query: { location, ...query, cursor, limit: 100 } } }),
    );
    items.push(...answer.items);
    if (!answer.next_cursor) break;
    cursor = answer.next_cursor;
  }
  return items;
}

/** The location's queue, every status the counter works with; each piece kept for offline use. */
async function fetchQueue(location: string): Promise<Fulfillment[]> {
  const lists = await Promise.all([
    ...QUEUE_STATUSES.map((status) => fetchPages(location, { status }, 1)),
    fetchPages(location, { handed_over_since: startOfToday() }, MAX_HANDOVER_PAGES),
  ]);
  const items = lists.flat();
  const savedAt = Date.now();
  for (const item of items) void remember(`fulfillment:${item.id}`, item, savedAt);
  return items;
}

function WorkRow({ item }: { item: Fulfillment }) {
  const status = item.status;
  const units = unitsLeft(item);
  const waiting = actionsFor(outboxEntries.value, item.id).some((e) => e.status === "pending" || e.status === "sending");
  const when =
    status === "handed_over" && item.handed_over_at
      ? item.handed_over_at
      : status === "ready_for_pickup" && item.ready_at
        ? item.ready_at
        : item.created_at;
  return (
    <Link href={paths.fulfillment(item.id)} class="row work-row">
      <span class="row__main" data-number={item.order_number} data-status={status}>
        <span class="row__title">
          <span class="mono work-row__number">{item.order_number}</span>
        </span>
        <span class="row__sub">
          {t(item.kind === "ship" ? "store.kind.ship" : "store.kind.pickup")}
          {status !== "handed_over" && units > 0 && ` · ${t("store.units", { count: units })}`}
          {" · "}
          <time dateTime={when}>{formatMoment(Date.parse(when), locale.value)}</time>
        </span>
        {(item.customer_arrived_at || waiting) && (
          <span class="work-row__flags">
            {item.customer_arrived_at && status === "ready_for_pickup" && (
              <span class="flag flag--here">{t("store.customerHere")}</span>
            )}
            {waiting && <span class="flag flag--waiting">{t("store.waitingToSend")}</span>}
          </span>
        )}
      </span>
      <Icon name="chevron" size={20} />
    </Link>
  );
}

function Group({ name, items }: { name: GroupName; items: Fulfillment[] }) {
  const id = `store-group-${name}`;
  return (
    <section class={`work-group work-group--${name}`} aria-labelledby={id} data-group={name}>
      <h2 id={id} class="section-title work-group__title">
        {t(`store.group.${name}` as MessageKey)} <span class="count">{items.length}</span>
      </h2>
      {items.length ? (
        <ul class="list" aria-labelledby={id}>
          {items.map((item) => (
            <li key={item.id}>
              <WorkRow item={item} />
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted small">{t("store.group.empty")}</p>
      )}
    </section>
  );
}

function StorePicker({ current }: { current: string | null }) {
  useEffect(() => void loadLocations(), []);
  const list = locations.value;
  const stores = list.state === "ready" ? list.value.filter((l) => l.active && (l.kind === "store" || l.serves_pickups)) : [];
  return (
    <div class="field">
      <label class="field__label" for="store-location">
        {t("store.location")}
      </label>
      <select id="store-location" value={current ?? ""} onChange={(e) => chooseStore(e.currentTarget.value || null)}>
        <option value="">{t("store.chooseLocation")}</option>
        {stores.map((l) => (
          <option key={l.code} value={l.code}>
            {l.name} ({l.code})
          </option>
        ))}
      </select>
    </div>
  );
}

function Queue({ location }: { location: string }) {
  const { state, reload } = useCachedQuery<Fulfillment[]>(`store:${location}`, () => fetchQueue(location));
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  useFollow(`location:${location}`, () => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void reload(), LIVE_PAUSE_MS);
  });
  useFeedReturn(() => void reload());

  const items = state.data;
  if (!items) {
    if (state.error != null) {
      const message = state.error instanceof NetworkError ? t("store.offlineNothing") : describeError(state.error, locale.value);
      return <ErrorNotice message={message} onRetry={() => void reload()} />;
    }
    return <Loading />;
  }
  // Work changed on this phone but not sent yet shows where it will be.
  const entries = outboxEntries.value;
  const projected = items.map((item) => ({ ...item, status: projectedStatus(item.status, actionsFor(entries, item.id), state.savedAt) }));
  const groups = groupQueue(projected);
  return (
    <>
      {state.fromCache && state.savedAt != null && !state.loading && (
        <div class="notice notice--stale" role="status">
          <p>{t("store.offline")}</p>
          <SeenAt savedAt={state.savedAt} />
        </div>
      )}
      <div class="work-groups" aria-live="polite">
        {GROUPS.map((name) => (
          <Group key={name} name={name} items={groups[name]} />
        ))}
      </div>
    </>
  );
}

export function StoreQueue() {
  const who = me.value;
  const own = who?.role === "associate" ? who.location ?? null : null;
  const location = own ?? chosenStore.value;
  return (
    <section class="screen store" aria-labelledby="store-title">
      <h1 id="store-title">
        {t("store.title")}
        {location && <span class="store__where mono"> · {location}</span>}
      </h1>
      {who?.role === "associate" && !own && <p class="notice notice--error">{t("store.noLocation")}</p>}
      {who?.role !== "associate" && <StorePicker current={location} />}
      {location ? <Queue key={location} location={location} /> : who?.role !== "associate" && <p class="muted">{t("store.pickLocation")}</p>}
    </section>
  );
}
