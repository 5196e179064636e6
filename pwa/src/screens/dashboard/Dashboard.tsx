/**
 * The managers' home, live: today's orders and revenue, the orders waiting for a decision
 * (held for lack of stock, held for another reason), the orders waiting for capacity (in
 * stock, but every location that could prepare them is full today) and the stock-outs.
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

import { api, unwrap } from "../../api/client";
import { describeError } from "../../api/problem";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { locale, t, type MessageKey } from "../../i18n";
import { formatMoney, formatNumber } from "../../i18n/format";
import { useCachedQuery } from "../../offline/query";
import { useFeedReturn, useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { levelFromEvent } from "../stock/stock";
import { OrderRowView } from "../orders/OrdersList";
import { todayRange, type OrderRow } from "../orders/orders";
import { levelKey, splitHolds, summarizeDay, withLiveStockOuts, type DaySummary, type StockOut } from "./summary";

const PAGE = 100;
// A day's orders are read page by page; past this many the count says "at least".
const MAX_PAGES = 20;
const HELD = 50;
const AWAITING = 50;
const STOCK_OUTS = 20;
// Orders come in bursts: the board is read again at most this often while they do.
const LIVE_PAUSE_MS = 1_000;

interface Board {
  today: DaySummary;
  shortOfStock: OrderRow[];
  onHold: OrderRow[];
  moreOnHold: boolean;
  awaitingCapacity: OrderRow[];
  moreAwaiting: boolean;
  stockOuts: StockOut[];
  moreStockOuts: boolean;
}

async function loadToday(): Promise<DaySummary> {
  const { from, to } = todayRange();
  const rows: OrderRow[] = [];
  let cursor: string | undefined;
  let pages = 0;
  let complete = true;
  do {
    const page = await unwrap(api.GET("/api/orders", { params: { query: { from, to, cursor, limit: PAGE } } }));
    rows.push(...page.items);
    cursor = page.next_cursor ?? undefined;
    pages += 1;
    if (cursor && pages >= MAX_PAGES) complete = false;
  } while (cursor && complete);
  return summarizeDay(rows, complete);
}

async function loadBoard(): Promise<Board> {
  const [today, held, awaiting, outs] = await Promise.all([
    loadToday(),
    unwrap(api.GET("/api/orders", { params: { query: { status: "on_hold", limit: HELD } } })),
    unwrap(api.GET("/api/orders", { params: { query: { status: "awaiting_capacity", limit: AWAITING } } })),
    unwrap(api.GET("/api/inventory/outs", { params: { query: { limit: STOCK_OUTS } } })),
  ]);
  const { shortOfStock, other } = splitHolds(held.items, new Map(held.items.map((row) => [row.number, row.hold_reason ?? null])));
  return {
    today,
    shortOfStock,
    onHold: other,
    moreOnHold: held.next_cursor !== null,
    awaitingCapacity: awaiting.items,
    moreAwaiting: awaiting.next_cursor !== null,
    stockOuts: outs.items,
    moreStockOuts: outs.next_cursor !== null,
  };
}

function HeldOrders({
  id,
  title,
  rows,
  more,
  empty,
  hint,
}: {
  id: string;
  title: MessageKey;
  rows: OrderRow[];
  more: boolean;
  empty: MessageKey;
  hint?: MessageKey;
}) {
  return (
    <>
      <h2 class="section-title" id={id}>
        {t(title, { count: rows.length + (more ? "+" : "") })}
      </h2>
      {hint && rows.length > 0 && <p class="muted small">{t(hint)}</p>}
      {rows.length ? (
        <ul class="list" aria-labelledby={id}>
          {rows.map((row) => (
            <li key={row.number}>
              <OrderRowView row={row} />
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">{t(empty)}</p>
      )}
    </>
  );
}

export function Dashboard() {
  const { state, reload } = useCachedQuery<Board>("dashboard", loadBoard);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const reloadSoon = () => {
    if (timer.current !== undefined) return; // one reading for the whole burst
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      void reload();
    }, LIVE_PAUSE_MS);
  };
  // Orders change the day's figures, the holds, and (by reserving stock) the stock-outs.
  useFollow("orders", reloadSoon);

  // A stock change says the level's new figures: it joins or leaves the stock-outs at once.
  const changedLevels = useSignal<Record<string, StockOut>>({});
  useEffect(() => {
    changedLevels.value = {}; // a fresh reading has them all
  }, [state.savedAt]);
  useFollow("inventory", (event) => {
    const level = levelFromEvent(event.data);
    if (level) changedLevels.value = { ...changedLevels.value, [levelKey(level)]: level };
  });

  useFeedReturn(() => void reload());

  const board = state.data;
  const stockOuts = board ? withLiveStockOuts(board.stockOuts ?? [], changedLevels.value) : [];

  return (
    <section class="screen" aria-labelledby="dashboard-title">
      <h1 id="dashboard-title">{t("dashboard.title")}</h1>
      {!board && state.loading && <Loading />}
      {!board && state.error != null && <ErrorNotice message={describeError(state.error, locale.value)} onRetry={() => void reload()} />}
      {board && (
        <>
          {state.fromCache && state.savedAt && !state.loading && (
            <div class="notice notice--stale" role="status">
              <SeenAt savedAt={state.savedAt} />
            </div>
          )}
          <div class="cards">
            <article class="card" data-card="orders-today">
              <h2 class="card__label">{t("dashboard.ordersToday")}</h2>
              <p class="card__value">
                {board.today.complete ? "" : "≥ "}
                {formatNumber(board.today.count, locale.value)}
              </p>
            </article>
            <article class="card" data-card="revenue-today">
              <h2 class="card__label">{t("dashboard.revenueToday")}</h2>
              {board.today.revenue.length === 0 ? (
                <p class="card__value">{formatMoney(0, "EUR", locale.value)}</p>
              ) : (
                board.today.revenue.map((r) => (
                  <p class="card__value" key={r.currency}>{formatMoney(r.amount, r.currency, locale.value)}</p>
                ))
              )}
            </article>
          </div>

          <HeldOrders
            id="dashboard-short"
            title="dashboard.shortOfStock"
            rows={board.shortOfStock ?? []}
            more={board.moreOnHold}
            empty="dashboard.nothingShort"
          />
          <HeldOrders id="dashboard-held" title="dashboard.onHold" rows={board.onHold} more={board.moreOnHold} empty="dashboard.nothingHeld" />
          <HeldOrders
            id="dashboard-awaiting"
            title="dashboard.awaitingCapacity"
            rows={board.awaitingCapacity ?? []}
            more={board.moreAwaiting ?? false}
            empty="dashboard.nothingAwaiting"
            hint="dashboard.awaitingHint"
          />

          <h2 class="section-title" id="dashboard-outs">
            {t("dashboard.stockOuts", { count: stockOuts.length + (board.moreStockOuts ? "+" : "") })}
          </h2>
          {stockOuts.length ? (
            <ul class="list" aria-labelledby="dashboard-outs">
              {stockOuts.map((level) => (
                <li key={levelKey(level)}>
                  <Link href={paths.sku(level.sku)} class="row stock-out" data-sku={level.sku} data-location={level.location}>
                    <span class="row__main">
                      <span class="row__title mono">{level.sku}</span>
                      <span class="row__sub">
                        {t("dashboard.stockOutAt", {
                          location: level.location,
                          onHand: formatNumber(level.on_hand, locale.value),
                          reserved: formatNumber(level.reserved, locale.value),
                        })}
                      </span>
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t("dashboard.noStockOut")}</p>
          )}
          {board.moreStockOuts && <p class="muted small">{t("dashboard.moreStockOuts")}</p>}

          <Link href={paths.orders} class="button button--secondary button--block">
            {t("dashboard.allOrders")}
          </Link>
        </>
      )}
    </section>
  );
}
