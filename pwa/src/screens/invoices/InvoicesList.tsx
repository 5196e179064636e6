/** Invoices (managers): newest first, search and filters, infinite scroll, live, readable offline. */
import "../orders/orders.css";
import "./invoices.css";

import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { api, unwrap, type Schemas } from "../../api/client";
import { NetworkError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { PagedResults } from "../../components/PagedResults";
import { useInfiniteScroll } from "../../components/useInfiniteScroll";
import { locale, t, type MessageKey } from "../../i18n";
import { formatMoment, formatMoney } from "../../i18n/format";
import { recall, remember } from "../../offline/cache";
import { useFeedReturn, useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { onSignedOut } from "../../state/session";
import {
  INVOICE_STATUSES,
  invertedRange,
  invoiceCacheKey,
  invoiceQuery,
  mergeInvoices,
  NO_FILTERS,
  touchesInvoices,
  type InvoiceFilters,
  type InvoiceStatusFilter,
} from "./invoices";

type Row = Schemas["InvoiceSummary"];

const PAGE_SIZE = 20;
const TYPING_PAUSE_MS = 250;
const LIVE_PAUSE_MS = 120;

interface Page {
  items: Row[];
  next_cursor: string | null;
}

interface Results extends Page {
  filters: InvoiceFilters;
  savedAt: number | null;
}

const filters = signal<InvoiceFilters>(NO_FILTERS);
const results = signal<Results | null>(null);
const loading = signal<"first" | "more" | null>(null);
const failure = signal<unknown>(null);
let run = 0;
let left = false;

onSignedOut(() => {
  filters.value = NO_FILTERS;
  results.value = null;
  failure.value = null;
});

const same = (a: InvoiceFilters, b: InvoiceFilters) => invoiceCacheKey(a) === invoiceCacheKey(b) && a.q === b.q;

function fetchInvoices(f: InvoiceFilters, cursor?: string | null): Promise<Page> {
  return unwrap(api.GET("/api/invoices", { params: { query: invoiceQuery(f, PAGE_SIZE, cursor) } }));
}

async function search(f: InvoiceFilters): Promise<void> {
  const mine = ++run;
  left = false;
  if (invertedRange(f)) {
    results.value = null;
    failure.value = null;
    loading.value = null;
    return;
  }
  loading.value = "first";
  failure.value = null;
  try {
    const page = await fetchInvoices(f);
    if (mine !== run) return;
    results.value = { ...page, filters: f, savedAt: null };
    void remember(invoiceCacheKey(f), page);
  } catch (error) {
    if (mine !== run) return;
    const kept = error instanceof NetworkError ? await recall<Page>(invoiceCacheKey(f)) : undefined;
    if (kept) results.value = { ...kept.value, filters: f, savedAt: kept.savedAt };
    else {
      results.value = null;
      failure.value = error;
    }
  } finally {
    if (mine === run) loading.value = null;
  }
}

async function loadMore(): Promise<void> {
  const current = results.value;
  if (!current?.next_cursor || loading.value || current.savedAt !== null) return;
  const mine = run;
  loading.value = "more";
  try {
    const page = await fetchInvoices(current.filters, current.next_cursor);
    if (mine !== run) return;
    const seen = new Set(current.items.map((r) => r.number));
    const merged = { items: [...current.items, ...page.items.filter((r) => !seen.has(r.number))], next_cursor: page.next_cursor };
    results.value = { ...merged, filters: current.filters, savedAt: null };
    void remember(invoiceCacheKey(current.filters), merged);
  } catch (error) {
    if (mine === run) failure.value = error;
  } finally {
    if (mine === run) loading.value = null;
  }
}

/** A document was issued somewhere: read the first page again and fold it into the rows. */
async function refreshHead(): Promise<void> {
  const current = results.value;
  if (!current) return;
  const mine = run;
  try {
    const head = await fetchInvoices(current.filters);
    const now = results.value;
    if (mine !== run || !now || !same(now.filters, current.filters)) return;
    const items = mergeInvoices(now.items, head.items);
    const next_cursor = now.savedAt === null ? now.next_cursor : head.next_cursor;
    results.value = { ...now, items, next_cursor, savedAt: null };
    void remember(invoiceCacheKey(now.filters), { items, next_cursor });
  } catch {
    // Offline: the feed is down too; this runs again when it returns.
  }
}

export function InvoiceStatusBadge({ status }: { status: string }) {
  return (
    <span class={`badge badge--invoice-${status}`} data-status={status}>
      {INVOICE_STATUSES.includes(status as never) ? t(`invoices.status.${status}` as MessageKey) : status}
    </span>
  );
}

function InvoiceRow({ row }: { row: Row }) {
  const who = row.customer_name || row.customer_email || t("orders.noCustomer");
  return (
    <Link href={paths.invoice(row.number)} class="row invoice-row" data-number={row.number} data-status={row.status}>
      <span class="row__main">
        <span class="row__title">
          <span class="mono">{row.number}</span> · {who}
        </span>
        <span class="row__sub">
          <time dateTime={row.issued_at}>{formatMoment(Date.parse(row.issued_at), locale.value)}</time>
          {" · "}
          <span class="mono">{row.order_number}</span>
        </span>
      </span>
      <span class="order-row__side">
        <span class="order-row__total">{formatMoney(row.gross, row.currency, locale.value)}</span>
        <InvoiceStatusBadge status={row.status} />
      </span>
      <Icon name="chevron" size={20} />
    </Link>
  );
}

export function InvoicesList() {
  const timer = useRef<number | undefined>(undefined);
  const liveTimer = useRef<number | undefined>(undefined);

  useEffect(() => {
    if (!results.value || !same(results.value.filters, filters.value)) void search(filters.value);
    else if (left) void refreshHead();
    return () => {
      left = true;
      window.clearTimeout(timer.current);
      window.clearTimeout(liveTimer.current);
      liveTimer.current = undefined;
    };
  }, []);

  useFollow("orders", (event) => {
    if (!touchesInvoices(event.type) || liveTimer.current !== undefined) return;
    liveTimer.current = window.setTimeout(() => {
      liveTimer.current = undefined;
      void refreshHead();
    }, LIVE_PAUSE_MS);
  });
  useFeedReturn(() => {
    if (results.value) void refreshHead();
  });

  const change = (next: Partial<InvoiceFilters>, pause = false) => {
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
    <section class="screen" aria-labelledby="invoices-title">
      <Link href={paths.orders} class="back">
        <Icon name="back" size={20} />
        {t("orders.title")}
      </Link>
      <h1 id="invoices-title">{t("invoices.title")}</h1>
      <form class="search filters" role="search" onSubmit={(e) => { e.preventDefault(); change({}); }}>
        <div class="field">
          <label class="field__label" for="invoices-q">{t("invoices.search")}</label>
          <input
            id="invoices-q"
            type="search"
            name="q"
            enterKeyHint="search"
            autocomplete="off"
            value={f.q}
            onInput={(e) => change({ q: e.currentTarget.value }, true)}
          />
        </div>
        <div class="field">
            <label class="field__label" for="invoices-status">{t("invoices.statusFilter")}</label>
            <select id="invoices-status" value={f.status} onChange={(e) => change({ status: e.currentTarget.value as InvoiceStatusFilter })}>
              <option value="">{t("invoices.allStatuses")}</option>
              {INVOICE_STATUSES.map((s) => (
                <option key={s} value={s}>{t(`invoices.status.${s}` as MessageKey)}</option>
              ))}
            </select>
        </div>
        <div class="filters__row">
          <div class="field">
            <label class="field__label" for="invoices-from">{t("invoices.from")}</label>
            <input id="invoices-from" type="date" value={f.from} max={f.to || undefined} onChange={(e) => change({ from: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label class="field__label" for="invoices-to">{t("invoices.to")}</label>
            <input id="invoices-to" type="date" value={f.to} min={f.from || undefined} onChange={(e) => change({ to: e.currentTarget.value })} />
          </div>
        </div>
        {invertedRange(f) && <p class="outcome outcome--refused" role="alert">{t("invoices.invertedRange")}</p>}
      </form>

      <PagedResults
        list={list}
        rowKey={(row) => row.number}
        renderRow={(row) => <InvoiceRow row={row} />}
        listClass="invoices"
        labelledBy="invoices-title"
        loading={loading.value}
        failure={failure.value}
        more={more}
        sentinel={sentinel}
        loadMore={loadMore}
        retry={() => search(filters.value)}
        words={{ offline: t("invoices.offline"), offlineNothing: t("invoices.offlineNothing"), none: t("invoices.none") }}
      />
    </section>
  );
}
