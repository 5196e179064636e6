/** Stock: search products by name, SKU or barcode (typed, scanned by camera or handheld scanner). */
import "./stock.css";

import { signal, useSignal } from "@preact/signals";
import type { ComponentType } from "preact";
import { useEffect, useRef } from "preact/hooks";

import { api, unwrap } from "../../api/client";
import { describeError, NetworkError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { useInfiniteScroll } from "../../components/useInfiniteScroll";
import { ErrorNotice, Loading } from "../../components/Notice";
import { locale, t } from "../../i18n";
import { formatNumber } from "../../i18n/format";
import { recall, recallAll, remember } from "../../offline/cache";
import { useFeedReturn, useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { navigate } from "../../state/router";
import { onSignedOut } from "../../state/session";
import { SeenAt } from "../../components/SeenAt";
import { batchAfterPause, findExactVariant, levelFromEvent, skusReservedBy, type Product } from "./stock";

const PAGE_SIZE = 30;
const TYPING_PAUSE_MS = 250;
// Orders come in bursts: the SKUs they reserve are read again at most this often.
const RESERVATION_PAUSE_MS = 300;

interface ProductList {
  items: Product[];
  next_cursor: string | null;
}

interface Results extends ProductList {
  q: string;
  /** Kept on this phone from an earlier search; the server did not answer this time. */
  savedAt: number | null;
}

// Kept between visits of the screen, so "back" from a SKU finds the list as it was.
const query = signal("");
const results = signal<Results | null>(null);
const loading = signal<"first" | "more" | null>(null);
const failure = signal<unknown>(null);
const notFoundCode = signal<string | null>(null);
/** What each SKU shown has to promise, per location: read with each page, then kept live. */
const stockBySku = signal<Record<string, Record<string, number>>>({});
let searchRun = 0;
// SKUs asked about in one call (the API takes up to 100).
const AVAILABLE_BATCH = 100;

const cacheKey = (q: string) => `products:${q.trim().toLowerCase()}`;

// The next person on this phone starts with an empty search.
onSignedOut(() => {
  query.value = "";
  results.value = null;
  stockBySku.value = {};
  failure.value = null;
  notFoundCode.value = null;
});

function fetchProducts(q: string, cursor?: string | null): Promise<ProductList> {
  return unwrap(
    api.GET("/api/products", {
      params: { query: { q: q.trim() || undefined, cursor: cursor ?? undefined, limit: PAGE_SIZE } },
    }),
  );
}

const skusOf = (items: readonly Product[]) => items.flatMap((p) => p.variants.map((v) => v.sku));

/** Read what `skus` have to promise (all of them again with `again`, else the new ones). */
async function loadStock(skus: readonly string[], again = false): Promise<void> {
  const wanted = again ? [...skus] : skus.filter((sku) => !(sku in stockBySku.value));
  for (let start = 0; start < wanted.length; start += AVAILABLE_BATCH) {
    try {
      const batch = await unwrap(
        api.GET("/api/inventory/available", { params: { query: { sku: wanted.slice(start, start + AVAILABLE_BATCH) } } }),
      );
      const next = { ...stockBySku.value };
      for (const row of batch) next[row.sku] = row.locations;
      stockBySku.value = next;
    } catch {
      return; // offline, say: the rows show no stock line rather than a wrong one
    }
  }
}

/** A stock event: the SKU's level at one location changed. */
function stockChanged(data: Record<string, unknown>): void {
  const level = levelFromEvent(data);
  const known = level && stockBySku.value[level.sku];
  if (!level || !known) return;
  stockBySku.value = { ...stockBySku.value, [level.sku]: { ...known, [level.location]: Math.max(0, level.available) } };
}

async function search(q: string): Promise<void> {
  const mine = ++searchRun;
  loading.value = "first";
  failure.value = null;
  try {
    const page = await fetchProducts(q);
    if (mine !== searchRun) return;
    results.value = { ...page, q, savedAt: null };
    void remember(cacheKey(q), page);
    void loadStock(skusOf(page.items));
  } catch (error) {
    if (mine !== searchRun) return;
    const kept = error instanceof NetworkError ? await recall<ProductList>(cacheKey(q)) : undefined;
    if (kept) results.value = { ...kept.value, q, savedAt: kept.savedAt };
    else {
      results.value = null;
      failure.value = error;
    }
  } finally {
    if (mine === searchRun) loading.value = null;
  }
}

async function loadMore(): Promise<void> {
  const current = results.value;
  if (!current?.next_cursor || loading.value || current.savedAt !== null) return;
  const mine = searchRun;
  loading.value = "more";
  try {
    const page = await fetchProducts(current.q, current.next_cursor);
    if (mine !== searchRun) return;
    const merged = { items: [...current.items, ...page.items], next_cursor: page.next_cursor };
    results.value = { ...merged, q: current.q, savedAt: null };
    void remember(cacheKey(current.q), merged);
    void loadStock(skusOf(page.items));
  } catch (error) {
    if (mine === searchRun) failure.value = error;
  } finally {
    if (mine === searchRun) loading.value = null;
  }
}

/**
 * A full code (a scan, or a handheld scanner's Enter): open its SKU directly when exactly
 * one variant has it as barcode or SKU; otherwise show the search results for it.
 */
async function openCode(code: string): Promise<void> {
  const wanted = code.trim();
  if (!wanted) return;
  notFoundCode.value = null;
  query.value = wanted;
  let candidates: Product[];
  try {
    candidates = (await fetchProducts(wanted)).items;
  } catch {
    // Offline: look through every list this phone kept.
    candidates = (await recallAll<ProductList>("products:")).flatMap((kept) => kept.value.items);
  }
  const sku = findExactVariant(candidates, wanted);
  if (sku) {
    navigate(paths.sku(sku));
    return;
  }
  await search(wanted);
  if (!results.value?.items.length) notFoundCode.value = wanted;
}

type ScannerProps = { onCode: (code: string) => void; onClose: () => void };
let ScannerComponent: ComponentType<ScannerProps> | null = null;

/** "Available: 12" or "Out of stock" for a row; nothing until the figures are known. */
function StockLine({ sku }: { sku: string }) {
  const at = stockBySku.value[sku];
  if (!at) return null;
  const available = Object.values(at).reduce((sum, n) => sum + n, 0);
  return available > 0 ? (
    <span class="badge stock-line" data-available={available}>
      {t("stock.availableCount", { count: formatNumber(available, locale.value) })}
    </span>
  ) : (
    <span class="badge badge--out stock-line" data-available="0">
      {t("stock.out")}
    </span>
  );
}

function ResultRows({ list }: { list: Results }) {
  const rows = list.items.flatMap((product) =>
    product.variants.map((variant) => ({ product, variant })),
  );
  return (
    <ul class="list" aria-labelledby="stock-results-title">
      {rows.map(({ product, variant }) => (
        <li key={variant.sku}>
          <Link href={paths.sku(variant.sku)} class="row">
            <span class="row__main">
              <span class="row__title">{variant.name}</span>
              <span class="row__sub">
                <span class="mono">{variant.sku}</span>
                {variant.barcode && <span class="mono"> · {variant.barcode}</span>}
              </span>
            </span>
            {!(variant.active && product.active) && (
              <span class="badge badge--muted">{t("stock.inactive")}</span>
            )}
            <StockLine sku={variant.sku} />
            <Icon name="chevron" size={20} />
          </Link>
        </li>
      ))}
    </ul>
  );
}

export function StockSearch() {
  const scannerOpen = useSignal(false);
  const scannerFailed = useSignal(false);
  const typingTimer = useRef<number | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);

  // Live: every stock change reaches the rows of the SKUs shown (one topic, whatever the count);
  // an order's reservations say no figures: the SKUs shown that it touched are read again.
  const rereads = useRef<ReturnType<typeof batchAfterPause> | null>(null);
  useEffect(() => {
    const batch = batchAfterPause(RESERVATION_PAUSE_MS, (skus) => void loadStock(skus, true));
    rereads.current = batch;
    return () => batch.cancel();
  }, []);
  useFollow("inventory", (event) => {
    stockChanged(event.data);
    const shown = skusReservedBy(event).filter((sku) => sku in stockBySku.value);
    if (shown.length) rereads.current?.add(shown);
  });
  useFeedReturn(() => {
    if (results.value) void loadStock(skusOf(results.value.items), true);
  });

  useEffect(() => {
    if (!results.value || results.value.q !== query.value) void search(query.value);
    // Back to the list: its figures may have changed while it was not shown.
    else void loadStock(skusOf(results.value.items), true);
    // At a counter terminal (mouse or handheld scanner), the field is ready to receive a scan.
    if (window.matchMedia?.("(pointer: fine)").matches) input.current?.focus();
    return () => window.clearTimeout(typingTimer.current);
  }, []);

  const onInput = (value: string) => {
    query.value = value;
    notFoundCode.value = null;
    window.clearTimeout(typingTimer.current);
    typingTimer.current = window.setTimeout(() => void search(value), TYPING_PAUSE_MS);
  };

  const onSubmit = (event: Event) => {
    event.preventDefault();
    window.clearTimeout(typingTimer.current);
    void openCode(query.value);
  };

  const openScanner = async () => {
    scannerFailed.value = false;
    if (!ScannerComponent) {
      try {
        ScannerComponent = (await import("./Scanner")).Scanner;
      } catch {
        scannerFailed.value = true;
        return;
      }
    }
    scannerOpen.value = true;
  };

  const list = results.value;
  const more = Boolean(list?.next_cursor) && list?.savedAt === null;
  const sentinel = useInfiniteScroll(more, `${list?.q}:${list?.items.length}`, loadMore);
  const Scanner = ScannerComponent;

  return (
    <section class="screen" aria-labelledby="stock-title">
      <h1 id="stock-title">{t("stock.title")}</h1>

      <form class="search" role="search" onSubmit={onSubmit}>
        <div class="field search__field">
          <label class="field__label" for="stock-q">
            {t("stock.search.label")}
          </label>
          <span class="search__row">
            <input
              ref={input}
              id="stock-q"
              type="search"
              name="q"
              inputMode="search"
              enterKeyHint="search"
              autocomplete="off"
              autocapitalize="none"
              spellcheck={false}
              aria-describedby="stock-search-hint"
              value={query.value}
              onInput={(e) => onInput(e.currentTarget.value)}
            />
            <button type="submit" class="icon-button icon-button--field" aria-label={t("stock.search.submit")}>
              <Icon name="search" />
            </button>
          </span>
        </div>
        <p id="stock-search-hint" class="muted small">
          {t("stock.search.hint")}
        </p>
        <button type="button" class="button button--secondary button--block" onClick={openScanner}>
          <Icon name="scan" />
          <span aria-hidden="true">{t("stock.scan")}</span>
          <span class="visually-hidden">{t("stock.scanLabel")}</span>
        </button>
      </form>

      {scannerFailed.value && <ErrorNotice message={t("error.chunk")} onRetry={openScanner} />}
      {notFoundCode.value && (
        <div class="notice notice--error" role="alert">
          <p>{t("stock.codeNotFound", { code: notFoundCode.value })}</p>
        </div>
      )}

      <h2 id="stock-results-title" class="section-title">
        {t("stock.results")}
      </h2>
      {list?.savedAt != null && (
        <div class="notice notice--stale" role="status">
          <p>{t("stock.offlineSearch")}</p>
          <SeenAt savedAt={list.savedAt} />
        </div>
      )}
      {list && list.items.length > 0 ? (
        <>
          <ResultRows list={list} />
          <div ref={sentinel} />
          {loading.value === "more" ? (
            <Loading />
          ) : more ? (
            <button type="button" class="button button--secondary button--block" onClick={() => void loadMore()}>
              {t("stock.loadMore")}
            </button>
          ) : list.savedAt === null && list.items.length > PAGE_SIZE ? (
            <p class="muted small">{t("stock.allShown")}</p>
          ) : null}
          {failure.value != null && (
            <ErrorNotice message={describeError(failure.value, locale.value)} onRetry={() => void loadMore()} />
          )}
        </>
      ) : loading.value === "first" ? (
        <Loading />
      ) : failure.value != null ? (
        <ErrorNotice
          message={
            failure.value instanceof NetworkError
              ? t("stock.offlineNothing")
              : describeError(failure.value, locale.value)
          }
          onRetry={() => void search(query.value)}
        />
      ) : list ? (
        <p class="muted">{list.q.trim() ? t("stock.noResults", { q: list.q.trim() }) : t("stock.noProducts")}</p>
      ) : null}

      {scannerOpen.value && Scanner && (
        <Scanner
          onClose={() => (scannerOpen.value = false)}
          onCode={(code) => {
            scannerOpen.value = false;
            void openCode(code);
          }}
        />
      )}
    </section>
  );
}
