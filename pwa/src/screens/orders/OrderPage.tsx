/** One order: lines and allocations, totals, customer, delivery, routing, the timeline (live), actions. */
import "./orders.css";

import { useRef } from "preact/hooks";

import { api, unwrap, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { ActionList } from "../../components/ActionList";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { StatusBadge } from "../../components/StatusBadge";
import { locale, t } from "../../i18n";
import { formatMoment } from "../../i18n/format";
import { valueLabel as label } from "../../i18n/labels";
import { useCachedQuery } from "../../offline/query";
import { useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { outboxEntries } from "../../state/outbox";
import { me } from "../../state/session";
import { OrderActions } from "./OrderActions";
import { OrderInvoices } from "./OrderInvoices";
import { OrderLines } from "./OrderLines";
import { OrderPayments } from "./OrderPayments";
import { OrderTimeline } from "./OrderTimeline";
import { OrderTotals } from "./OrderTotals";
import { MANAGERS } from "./orders";
import { FraudSection } from "../reviews/FraudFacts";
import { RoutingSection } from "./RoutingSection";

type Order = Schemas["OrderDetailOut"];

export function OrderPage({ number }: { number: string }) {
  const { state, reload } = useCachedQuery<Order>(`order:${number}`, () =>
    unwrap(api.GET("/api/orders/{number}", { params: { path: { number } } })),
  );
  const timer = useRef<number | undefined>(undefined);
  useFollow(`order:${number}`, () => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void reload(), 100);
  });
  const mine = outboxEntries.value.filter((e) => e.subject === number && e.owner === me.value?.id);
  const order = state.data;

  return (
    <section class="screen" aria-labelledby="order-title">
      <Link href={paths.orders} class="back">
        <Icon name="back" size={20} />
        {t("orders.title")}
      </Link>
      <h1 id="order-title">{t("order.title", { number })}</h1>
      {!order && state.loading && <Loading />}
      {!order && state.error != null && <ErrorNotice message={describeError(state.error, locale.value)} onRetry={() => void reload()} />}
      {order && (
        <>
          {state.fromCache && state.savedAt && !state.loading && (
            <div class="notice notice--stale" role="status">
              <SeenAt savedAt={state.savedAt} />
            </div>
          )}
          <p class="order-head">
            <StatusBadge status={order.status} />
            <span class="muted small">
              {" "}
              {formatMoment(Date.parse(order.created_at), locale.value)} · {order.channel}
            </span>
          </p>
          {order.hold && (
            <p class="notice notice--stale" data-hold>
              {t("order.onHoldBecause", { reason: label("order.holdReason", order.hold.reason) })}
              {order.hold.note ? ` — ${order.hold.note}` : ""}
            </p>
          )}
          {order.fraud && <FraudSection fraud={order.fraud} />}
          <OrderActions order={order} onDone={() => void reload()} />
          {mine.length > 0 && <ActionList entries={mine} />}

          <h2 id="order-lines" class="section-title">{t("order.lines")}</h2>
          <OrderLines order={order} />
          <OrderTotals order={order} />

          <OrderPayments order={order} />

          <h2 class="section-title">{t("order.customer")}</h2>
          <p>
            {order.customer.name ?? t("orders.noCustomer")}
            {order.customer.email && <><br /><span class="muted">{order.customer.email}</span></>}
            {order.customer.phone && <><br /><span class="muted">{order.customer.phone}</span></>}
          </p>

          <h2 class="section-title">{t("order.delivery")}</h2>
          <p>
            {label("order.method", order.delivery.method)}
            {order.delivery.location && <><br />{order.delivery.location}</>}
            {order.delivery.address && (
              <>
                <br />
                {order.delivery.address.name}
                <br />
                {order.delivery.address.line1}
                <br />
                {order.delivery.address.postal_code} {order.delivery.address.city} ({order.delivery.address.country})
              </>
            )}
          </p>

          {me.value && MANAGERS.has(me.value.role) && <OrderInvoices order={order} />}

          {me.value && MANAGERS.has(me.value.role) && <RoutingSection number={order.number} version={order.version} />}

          <h2 id="order-timeline" class="section-title">{t("order.timeline")}</h2>
          <OrderTimeline order={order} />
        </>
      )}
    </section>
  );
}
