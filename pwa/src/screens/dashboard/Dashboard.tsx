/** The managers' home: today's orders and revenue, and the orders waiting for a decision, live. */
import { useRef } from "preact/hooks";

import { api, unwrap } from "../../api/client";
import { describeError } from "../../api/problem";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { locale, t } from "../../i18n";
import { formatMoney, formatNumber } from "../../i18n/format";
import { useCachedQuery } from "../../offline/query";
import { useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { OrderRowView } from "../orders/OrdersList";
import { todayRange, type OrderRow } from "../orders/orders";
import { summarizeDay, type DaySummary } from "./summary";

const PAGE = 100;
// A day's orders are read page by page; past this many the count says "at least".
const MAX_PAGES = 20;

interface Board {
  today: DaySummary;
  onHold: OrderRow[];
  moreOnHold: boolean;
}

async function loadBoard(): Promise<Board> {
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
  const held = await unwrap(api.GET("/api/orders", { params: { query: { status: "on_hold", limit: 20 } } }));
  return { today: summarizeDay(rows, complete), onHold: held.items, moreOnHold: held.next_cursor !== null };
}

export function Dashboard() {
  const { state, reload } = useCachedQuery<Board>("dashboard", loadBoard);
  const timer = useRef<number | undefined>(undefined);
  useFollow("orders", () => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void reload(), 300);
  });
  const board = state.data;

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
          <h2 class="section-title" id="dashboard-held">
            {t("dashboard.onHold", { count: board.onHold.length + (board.moreOnHold ? "+" : "") })}
          </h2>
          {board.onHold.length ? (
            <ul class="list" aria-labelledby="dashboard-held">
              {board.onHold.map((row) => (
                <li key={row.number}>
                  <OrderRowView row={row} />
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t("dashboard.nothingHeld")}</p>
          )}
          <Link href={paths.orders} class="button button--secondary button--block">
            {t("dashboard.allOrders")}
          </Link>
        </>
      )}
    </section>
  );
}
