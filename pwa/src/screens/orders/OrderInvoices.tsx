/** The order's invoices and credit notes (links), and for managers "Issue invoice": the server
 * invoices what left and is not invoiced yet, or says why not (order_not_delivered,
 * already_invoiced). */
import { useSignal } from "@preact/signals";

import { api, unwrap, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { locale, t } from "../../i18n";
import { formatMoney } from "../../i18n/format";
import { useCachedQuery } from "../../offline/query";
import { useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { me } from "../../state/session";
import { InvoiceStatusBadge } from "../invoices/InvoicesList";
import { canAskForInvoice, MANAGERS } from "./orders";

type Order = Schemas["OrderDetailOut"];

interface Documents {
  invoices: Schemas["InvoiceSummary"][];
  creditNotes: Schemas["CreditNoteSummary"][];
}

async function documentsOf(number: string): Promise<Documents> {
  const query = { order: number, limit: 100 };
  const [invoices, notes] = await Promise.all([
    unwrap(api.GET("/api/invoices", { params: { query } })),
    unwrap(api.GET("/api/credit-notes", { params: { query } })),
  ]);
  // Oldest first, as they were issued.
  return { invoices: [...invoices.items].reverse(), creditNotes: [...notes.items].reverse() };
}

export function OrderInvoices({ order }: { order: Order }) {
  const number = order.number;
  const { state, reload } = useCachedQuery<Documents>(`order-documents:${number}`, () => documentsOf(number));
  useFollow(`order:${number}`, (event) => {
    if (event.type === "invoice.issued" || event.type === "credit_note.issued") void reload();
  });
  const busy = useSignal(false);
  const refusal = useSignal<string | null>(null);
  const manager = me.value ? MANAGERS.has(me.value.role) : false;
  const docs = state.data;

  const issue = async () => {
    busy.value = true;
    refusal.value = null;
    try {
      // In the customer's language (the order's), as the server issues it by itself at handover.
      await unwrap(api.POST("/api/orders/{number}/invoices", { params: { path: { number } }, body: {} }));
      await reload();
    } catch (error) {
      refusal.value = describeError(error, locale.value);
    } finally {
      busy.value = false;
    }
  };

  const money = (v: number, currency: string) => formatMoney(v, currency, locale.value);
  const none = docs && docs.invoices.length === 0 && docs.creditNotes.length === 0;
  return (
    <section class="order-invoices" aria-labelledby="order-invoices">
      <h2 id="order-invoices" class="section-title">{t("order.invoices")}</h2>
      {docs && !none && (
        <ul class="list" aria-labelledby="order-invoices">
          {docs.invoices.map((i) => (
            <li key={i.number}>
              <Link href={paths.invoice(i.number)} class="row invoice-row" data-number={i.number}>
                <span class="row__main">
                  <span class="row__title">{t("order.invoice", { number: i.number })}</span>
                  <span class="row__sub">{money(i.gross, i.currency)}</span>
                </span>
                <InvoiceStatusBadge status={i.status} />
                <Icon name="chevron" size={20} />
              </Link>
            </li>
          ))}
          {docs.creditNotes.map((n) => (
            <li key={n.number}>
              <Link href={paths.creditNote(n.number)} class="row credit-row" data-number={n.number}>
                <span class="row__main">
                  <span class="row__title">{t("order.creditNote", { number: n.number })}</span>
                  <span class="row__sub">{money(n.gross, n.currency)} · {n.reason}</span>
                </span>
                <Icon name="chevron" size={20} />
              </Link>
            </li>
          ))}
        </ul>
      )}
      {none && <p class="muted">{t("order.noInvoices")}</p>}
      {manager && canAskForInvoice(order.status) && (
        <button type="button" class="button button--secondary" disabled={busy.value} onClick={() => void issue()}>
          {t("order.issueInvoice")}
        </button>
      )}
      {refusal.value && <p class="outcome outcome--refused" role="alert">{refusal.value}</p>}
    </section>
  );
}
