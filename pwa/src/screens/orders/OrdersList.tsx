/** Orders: filters, search, infinite scroll, and rows that change live as orders do. */
import "./orders.css";

import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { api, unwrap } from "../../api/client";
import { NetworkError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { PagedResults } from "../../components/PagedResults";
import { useInfiniteScroll } from "../../components/useInfiniteScroll";
import { StatusBadge } from "../../components/StatusBadge";
import { locale, t, type MessageKey } from "../../i18n";
import { formatMoment, formatMoney } from "../../i18n/format";
import { recall, remember } from "../../offline/cache";
import { useFeedReturn, useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { me, onSignedOut } from "../../state/session";
import { MANAGERS, mergeHead, STATUS_FILTERS, statusQuery, type OrderRow, type StatusFilter } from "./orders";

// A phone shows about ten rows: the first page is ready sooner, scrolling reads the rest.
const PAGE_SIZE = 20;
const TYPING_PAUSE_MS = 250;
// Several events in a burst (capture, allocation…) make one request.
const LIVE_PAUSE_MS = 120;

interface Page {
  items: OrderRow[];
  next_cursor: string | null;
}

interface Filters {
  status: StatusFilter;
  channel: string;
  q: string;
}

interface Results extends Page {
  filters: Filters;
  savedAt: number | null;
}

const filters = signal<Filters>({ status: "open", channel: "", q: "" });
const results = signal<Results | null>(null);
const loading = signal<"first" | "more" | null>(null);
const failure = signal<unknown>(null);
const channels = signal<{ code: string; name: string }[]>([]);
let run = 0;
/** The filters of the first-page read on its way, if one is. */
let reading: Filters | null = null;
/** The list was left (another screen shown): the rows kept may have changed meanwhile. */
let left = false;

onSignedOut(() => {
  filters.value = { status: "open", channel: "", q: "" };
  results.value = null;
  failure.value = null;
});

const cacheKey = (f: Filters) => `orders:${f.status}:${f.channel}:${f.q.trim().toLowerCase()}`;
const sameFilters = (a: Filters, b: Filters) => a.status === b.status && a.channel === b.channel && a.q === b.q;

function fetchOrders(f: Filters, cursor?: string | null): Promise<Page> {
  return unwrap(
    api.GET("/api/orders", {
      params: {
        query: {
          status: statusQuery(f.status) || undefined,
          channel: f.channel || undefined,
          q: f.q.trim() || undefined,
          cursor: cursor ?? undefined,
          limit: PAGE_SIZE,
        },
      },
    }),
  );
}

async function search(f: Filters): Promise<void> {
  const mine = ++run;
  loading.value = "first";
  failure.value = null;
  reading = f;
  left = false;
  try {
    const page = await fetchOrders(f);
    if (mine !== run) return;
    results.value = { ...page, filters: f, savedAt: null };
    void remember(cacheKey(f), page);
  } catch (error) {
    if (mine !== run) return;
    const kept = error instanceof NetworkError ? await recall<Page>(cacheKey(f)) : undefined;
    if (kept) results.value = { ...kept.value, filters: f, savedAt: kept.savedAt };
    else {
      results.value = null;
      failure.value = error;
    }
  } finally {
    if (mine === run) {
      loading.value = null;
      reading = null;
    }
  }
}

/**
 * Start reading the list before its screen is shown: the app asks for it while it checks the
 * session, so the rows do not wait for the session, then the screen's code, then the list.
 */
export function prefetch(): void {
  if (!results.value && !reading) void search(filters.value);
}

async function loadMore(): Promise<void> {
  const current = results.value;
  if (!current?.next_cursor || loading.value || current.savedAt !== null) return;
  const mine = run;
  loading.value = "more";
  try {
    const page = await fetchOrders(current.filters, current.next_cursor);
    if (mine !== run) return;
    const seen = new Set(current.items.map((r) => r.number));
    const merged = { items: [...current.items, ...page.items.filter((r) => !seen.has(r.number))], next_cursor: page.next_cursor };
    results.value = { ...merged, filters: current.filters, savedAt: null };
    void remember(cacheKey(current.filters), merged);
  } catch (error) {
    if (mine === run) failure.value = error;
  } finally {
    if (mine === run) loading.value = null;
  }
}

/** An order changed somewhere: read the first page again and fold it into the rows. */
async function refreshHead(): Promise<void> {
  const current = results.value;
  if (!current) return;
  const mine = run;
  try {
    const head = await fetchOrders(current.filters);
    const now = results.value;
    if (mine !== run || !now || !sameFilters(now.filters, current.filters)) return;
    const items = mergeHead(now.items, head.items, now.filters.status);
    results.value = { ...now, items, next_cursor: now.savedAt === null ? now.next_cursor : head.next_cursor, savedAt: null };
    void remember(cacheKey(now.filters), { items, next_cursor: results.value.next_cursor });
  } catch {
    // Offline: the feed is down too; it resumes, and this runs again, when the network returns.
  }
}

async function loadChannels(): Promise<void> {
  if (channels.value.length) return;
  try {
    const list = await unwrap(api.GET("/api/channels"));
    channels.value = list.map((c) => ({ code: c.code, name: c.name }));
  } catch {
    // Without the list, the filter offers "every channel" only.
  }
}

export function OrderRowView({ row }: { row: OrderRow }) {
  const who = row.customer_name || row.customer_email || t("orders.noCustomer");
  return (
    <Link href={paths.order(row.number)} class="row order-row" data-number={row.number} data-status={row.status}>
      <span class="row__main">
        <span class="row__title">
          <span class="mono">{row.number}</span> · {who}
        </span>
        <span class="row__sub">
          <time dateTime={row.created_at}>{formatMoment(Date.parse(row.created_at), locale.value)}</time>
          {" · "}
          {row.channel}
        </span>
      </span>
      <span class="order-row__side">
        <span class="order-row__total">{formatMoney(row.total, row.currency, locale.value)}</span>
        <StatusBadge status={row.status} />
      </span>
      <Icon name="chevron" size={20} />
    </Link>
  );
}

export function OrdersList() {
  const timer = useRef<number | undefined>(undefined);
  const liveTimer = useRef<number | undefined>(undefined);

  useEffect(() => {
    void loadChannels();
    // One request on open: the search, or (back to the list) its first page read again for
    // what changed while the list was not shown.
    if (reading && sameFilters(reading, filters.value)) {
      // Already on its way (prefetched while the session was checked).
    } else if (!results.value || !sameFilters(results.value.filters, filters.value)) void search(filters.value);
    else if (left) void refreshHead();
    return () => {
      left = true;
      window.clearTimeout(timer.current);
      window.clearTimeout(liveTimer.current);
      liveTimer.current = undefined;
    };
  }, []);

  useFollow("orders", () => {
    if (liveTimer.current !== undefined) return; // one read for the burst (and never starved by it)
    liveTimer.current = window.setTimeout(() => {
      liveTimer.current = undefined;
      void refreshHead();
    }, LIVE_PAUSE_MS);
  });
  useFeedReturn(() => {
    if (results.value) void refreshHead();
  });

  const change = (next: Partial<Filters>, pause = false) => {
    filters.value = { ...filters.value, ...next };
    window.clearTimeout(timer.current);
    if (pause) timer.current = window.setTimeout(() => void search(filters.value), TYPING_PAUSE_MS);
    else void search(filters.value);
  };

  const list = results.value;
  const more = Boolean(list?.next_cursor) && list?.savedAt === null;
  const sentinel = useInfiniteScroll(more, `${list?.items.length}:${list?.next_cursor}`, loadMore);
  const f = filters.value;

  return (
    <section class="screen" aria-labelledby="orders-title">
      <div class="screen-head">
        <h1 id="orders-title">{t("orders.title")}</h1>
        {me.value && MANAGERS.has(me.value.role) && (
          <Link href={paths.invoices} class="button button--secondary button--small" data-invoices-link>
            <Icon name="invoice" size={20} />
            {t("invoices.title")}
          </Link>
        )}
      </div>
      <form class="search filters" role="search" onSubmit={(e) => { e.preventDefault(); change({}); }}>
        <div class="field">
          <label class="field__label" for="orders-q">{t("orders.search")}</label>
          <input
            id="orders-q"
            type="search"
            name="q"
            enterKeyHint="search"
            autocomplete="off"
            value={f.q}
            onInput={(e) => change({ q: e.currentTarget.value }, true)}
          />
        </div>
        <div class="filters__row">
          <div class="field">
            <label class="field__label" for="orders-status">{t("orders.status")}</label>
            <select id="orders-status" value={f.status} onChange={(e) => change({ status: e.currentTarget.value as StatusFilter })}>
              {STATUS_FILTERS.map((s) => (
                <option key={s} value={s}>{t(`orders.filter.${s}` as MessageKey)}</option>
              ))}
            </select>
          </div>
          <div class="field">
            <label class="field__label" for="orders-channel">{t("orders.channel")}</label>
            <select id="orders-channel" value={f.channel} onChange={(e) => change({ channel: e.currentTarget.value })}>
              <option value="">{t("orders.allChannels")}</option>
              {channels.value.map((c) => (
                <option key={c.code} value={c.code}>{c.name}</option>
              ))}
            </select>
          </div>
        </div>
      </form>

      <PagedResults
        list={list}
        rowKey={(row) => row.number}
        renderRow={(row) => <OrderRowView row={row} />}
        listClass="orders"
        labelledBy="orders-title"
        loading={loading.value}
        failure={failure.value}
        more={more}
        sentinel={sentinel}
        loadMore={loadMore}
        retry={() => search(filters.value)}
        words={{ offline: t("orders.offline"), offlineNothing: t("orders.offlineNothing"), none: t("orders.none") }}
      />
    </section>
  );
}
