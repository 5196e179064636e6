/**
 * The results part of a searchable, paged list (orders, invoices): the "seen offline"
 * notice, the rows, the infinite-scroll sentinel and "load more", and what to show while
 * the first page loads, when it failed, or when nothing matched.
 */
import type { ComponentChildren, RefObject } from "preact";

import { describeError, NetworkError } from "../api/problem";
import { locale, t } from "../i18n";
import { ErrorNotice, Loading } from "./Notice";
import { SeenAt } from "./SeenAt";

interface Shown<Row> {
  items: Row[];
  savedAt: number | null; // kept on the phone and shown without network
}

interface Props<Row> {
  list: Shown<Row> | null;
  rowKey: (row: Row) => string;
  renderRow: (row: Row) => ComponentChildren;
  listClass: string;
  labelledBy: string;
  loading: "first" | "more" | null;
  failure: unknown;
  more: boolean;
  sentinel: RefObject<HTMLDivElement | null>;
  loadMore: () => unknown;
  retry: () => unknown;
  words: { offline: string; offlineNothing: string; none: string };
}

export function PagedResults<Row>(p: Props<Row>) {
  const { list } = p;
  return (
    <>
      {list?.savedAt != null && (
        <div class="notice notice--stale" role="status">
          <p>{p.words.offline}</p>
          <SeenAt savedAt={list.savedAt} />
        </div>
      )}
      {list && list.items.length > 0 ? (
        <>
          <ul class={`list ${p.listClass}`} aria-labelledby={p.labelledBy} aria-live="polite">
            {list.items.map((row) => (
              <li key={p.rowKey(row)}>{p.renderRow(row)}</li>
            ))}
          </ul>
          <div ref={p.sentinel} />
          {p.loading === "more" ? (
            <Loading />
          ) : p.more ? (
            <button type="button" class="button button--secondary button--block" onClick={() => void p.loadMore()}>
              {t("orders.loadMore")}
            </button>
          ) : null}
          {p.failure != null && (
            <ErrorNotice message={describeError(p.failure, locale.value)} onRetry={() => void p.loadMore()} />
          )}
        </>
      ) : p.loading === "first" ? (
        <Loading />
      ) : p.failure != null ? (
        <ErrorNotice
          message={p.failure instanceof NetworkError ? p.words.offlineNothing : describeError(p.failure, locale.value)}
          onRetry={() => void p.retry()}
        />
      ) : list ? (
        <p class="muted">{p.words.none}</p>
      ) : null}
    </>
  );
}
