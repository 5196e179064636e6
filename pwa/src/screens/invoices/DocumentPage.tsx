/** One invoice or credit note as issued: what it states, its PDF (open or share), its credit notes,
 * and for managers the credit note form. The same component for both kinds. */
import "../orders/orders.css";
import "./invoices.css";

import { useSignal } from "@preact/signals";

import { api, unwrap, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { Icon } from "../../components/Icon";
import { Link } from "../../components/Link";
import { ErrorNotice, Loading } from "../../components/Notice";
import { SeenAt } from "../../components/SeenAt";
import { locale, t } from "../../i18n";
import { formatMoment, formatMoney } from "../../i18n/format";
import { useCachedQuery } from "../../offline/query";
import { useFollow } from "../../realtime/useFollow";
import { paths } from "../../routes";
import { me } from "../../state/session";
import { MANAGERS } from "../orders/orders";
import { CreditNoteForm } from "./CreditNoteForm";
import { formatRate, pdfHref, shareMode } from "./invoices";
import { InvoiceStatusBadge } from "./InvoicesList";

type Invoice = Schemas["InvoiceOut"];
type CreditNote = Schemas["CreditNoteOut"];
type Statement = Schemas["Statement"];
type Address = Schemas["Address"];
type Kind = "invoice" | "credit_note";

function AddressLines({ address }: { address: Address | null | undefined }) {
  if (!address) return null;
  const place = [address.postal_code, address.city].filter(Boolean).join(" ");
  return (
    <>
      {address.line1 && <><br />{address.line1}</>}
      {address.line2 && <><br />{address.line2}</>}
      {place && <><br />{place}{address.country && address.country !== "FR" ? ` (${address.country})` : ""}</>}
    </>
  );
}

/** "Share": the PDF itself through the phone's share sheet where it can take files, else its link. */
function ShareButton({ kind, number }: { kind: Kind; number: string }) {
  const error = useSignal<string | null>(null);
  if (typeof navigator === "undefined" || shareMode(navigator) === "none") return null;
  const href = pdfHref(kind, number);
  const share = async () => {
    error.value = null;
    const title = t(kind === "invoice" ? "invoice.title" : "creditNote.title", { number });
    const url = new URL(href, location.origin).href;
    try {
      let file: File | undefined;
      try {
        const response = await fetch(href, { credentials: "same-origin" });
        if (response.ok) file = new File([await response.blob()], `${number}.pdf`, { type: "application/pdf" });
      } catch {
        // No network: the link can still be shared.
      }
      if (file && shareMode(navigator, file) === "file") await navigator.share({ files: [file], title });
      else await navigator.share({ url, title });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") return; // the person closed the sheet
      error.value = t("invoice.shareFailed");
    }
  };
  return (
    <>
      <button type="button" class="button button--secondary" onClick={() => void share()}>
        {t("invoice.share")}
      </button>
      {error.value && <p class="outcome outcome--refused" role="alert">{error.value}</p>}
    </>
  );
}

function StatementView({ statement }: { statement: Statement }) {
  const money = (v: number) => formatMoney(v, statement.currency, locale.value);
  const rate = (bp: number) => formatRate(bp, locale.value);
  const { seller, buyer, terms } = statement;
  return (
    <>
      <div class="parties">
        <section class="party" aria-labelledby="doc-seller" data-party="seller">
          <h2 id="doc-seller" class="section-title">{t("invoice.seller")}</h2>
          <p>
            <strong>{seller.legal_name}</strong>
            {seller.legal_form && !seller.legal_name.includes(seller.legal_form) && ` ${seller.legal_form}`}
            <AddressLines address={seller.address} />
          </p>
          <dl class="legal">
            {seller.share_capital && <div><dt>{t("invoice.capital")}</dt><dd>{seller.share_capital}</dd></div>}
            {seller.siret && <div data-legal="siret"><dt>{t("invoice.siret")}</dt><dd class="mono">{seller.siret}</dd></div>}
            {seller.rcs && <div><dt>{t("invoice.rcs")}</dt><dd>{seller.rcs}</dd></div>}
            {seller.vat_number && <div><dt>{t("invoice.vatNumber")}</dt><dd class="mono">{seller.vat_number}</dd></div>}
          </dl>
        </section>
        <section class="party" aria-labelledby="doc-buyer" data-party="buyer">
          <h2 id="doc-buyer" class="section-title">{t("invoice.buyer")}</h2>
          <p>
            <strong>{buyer.business && buyer.company ? buyer.company : buyer.name}</strong>
            {buyer.business && buyer.company && buyer.name !== buyer.company && <><br />{buyer.name}</>}
            {buyer.email && <><br /><span class="muted">{buyer.email}</span></>}
            <AddressLines address={buyer.address} />
          </p>
          {buyer.vat_number && (
            <dl class="legal"><div><dt>{t("invoice.vatNumber")}</dt><dd class="mono">{buyer.vat_number}</dd></div></dl>
          )}
        </section>
      </div>

      <h2 id="doc-lines" class="section-title">{t("invoice.lines")}</h2>
      <ul class="list lines doc-lines" aria-labelledby="doc-lines">
        {statement.lines.map((line) => (
          <li key={line.position} class="line doc-line" data-position={line.position} data-sku={line.sku ?? ""}>
            <div class="line__main">
              <span class="row__title">{line.name}</span>
              {line.sku && <span class="row__sub mono">{line.sku}</span>}
              <span class="row__sub">
                {t("invoice.qtyAtPrice", { quantity: line.quantity, price: money(line.unit_price_net) })}
                {" · "}
                {t("invoice.vatAt", { rate: rate(line.vat_rate_bp) })}
              </span>
              <span class="row__sub">
                {t("invoice.lineNet", { amount: money(line.net) })} · {t("invoice.lineVat", { amount: money(line.vat) })}
              </span>
            </div>
            <span class="line__total" data-line-gross>{money(line.gross)}</span>
          </li>
        ))}
      </ul>

      <h2 id="doc-rates" class="section-title">{t("invoice.vatBreakdown")}</h2>
      <table class="vat-table" aria-labelledby="doc-rates">
        <thead>
          <tr>
            <th scope="col">{t("invoice.rate")}</th>
            <th scope="col">{t("invoice.net")}</th>
            <th scope="col">{t("invoice.vat")}</th>
            <th scope="col">{t("invoice.gross")}</th>
          </tr>
        </thead>
        <tbody>
          {statement.rates.map((r) => (
            <tr key={r.vat_rate_bp} data-rate={r.vat_rate_bp}>
              <th scope="row">{rate(r.vat_rate_bp)}</th>
              <td>{money(r.net)}</td>
              <td>{money(r.vat)}</td>
              <td>{money(r.gross)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <dl class="totals">
        <div data-amount="net"><dt>{t("invoice.totalNet")}</dt><dd>{money(statement.net)}</dd></div>
        <div data-amount="vat"><dt>{t("invoice.totalVat")}</dt><dd>{money(statement.vat)}</dd></div>
        <div class="totals__grand" data-amount="gross"><dt>{t("invoice.totalGross")}</dt><dd>{money(statement.gross)}</dd></div>
      </dl>

      <h2 class="section-title">{t("invoice.terms")}</h2>
      <dl class="facts">
        <div><dt>{t("invoice.issueDate")}</dt><dd>{formatMoment(Date.parse(statement.issued_at), locale.value, 0)}</dd></div>
        {statement.kind === "invoice" && (
          <div><dt>{t("invoice.dueDate")}</dt><dd>{new Date(`${terms.due_date}T12:00:00`).toLocaleDateString(locale.value)}</dd></div>
        )}
        {terms.paid && <div><dt>{t("invoice.payment")}</dt><dd>{t("invoice.paid")}</dd></div>}
        {terms.late_penalty_rate && <div><dt>{t("invoice.latePenalty")}</dt><dd>{terms.late_penalty_rate}</dd></div>}
        {(terms.recovery_indemnity ?? 0) > 0 && (
          <div><dt>{t("invoice.recoveryIndemnity")}</dt><dd>{money(terms.recovery_indemnity)}</dd></div>
        )}
        {terms.early_payment_discount && <div><dt>{t("invoice.discount")}</dt><dd>{terms.early_payment_discount}</dd></div>}
      </dl>
    </>
  );
}

export function DocumentPage({ kind, number }: { kind: Kind; number: string }) {
  const { state, reload } = useCachedQuery<Invoice | CreditNote>(`${kind}:${number}`, () =>
    kind === "invoice"
      ? unwrap(api.GET("/api/invoices/{number}", { params: { path: { number } } }))
      : unwrap(api.GET("/api/credit-notes/{number}", { params: { path: { number } } })),
  );
  const crediting = useSignal(false);
  const doc = state.data;
  const orderNumber = doc?.order_number ?? null;
  // A credit note issued elsewhere changes this invoice's status and list.
  useFollow(kind === "invoice" && orderNumber ? `order:${orderNumber}` : null, (event) => {
    if (event.type === "credit_note.issued") void reload();
  });
  const manager = me.value ? MANAGERS.has(me.value.role) : false;
  const invoice = kind === "invoice" ? (doc as Invoice | null) : null;
  const note = kind === "credit_note" ? (doc as CreditNote | null) : null;
  const titleKey = kind === "invoice" ? "invoice.title" : "creditNote.title";

  return (
    <section class="screen document" aria-labelledby="doc-title" data-kind={kind}>
      <Link href={paths.invoices} class="back">
        <Icon name="back" size={20} />
        {t("invoices.title")}
      </Link>
      <h1 id="doc-title">{t(titleKey, { number })}</h1>
      {!doc && state.loading && <Loading />}
      {!doc && state.error != null && <ErrorNotice message={describeError(state.error, locale.value)} onRetry={() => void reload()} />}
      {doc && (
        <>
          {state.fromCache && state.savedAt && !state.loading && (
            <div class="notice notice--stale" role="status">
              <SeenAt savedAt={state.savedAt} />
            </div>
          )}
          <p class="order-head">
            {invoice && <InvoiceStatusBadge status={invoice.status} />}
            <span class="muted small">
              {" "}
              {t("invoice.forOrder")}{" "}
              <Link href={paths.order(doc.order_number)} class="mono">{doc.order_number}</Link>
              {note && (
                <>
                  {" · "}
                  {t("creditNote.corrects")}{" "}
                  <Link href={paths.invoice(note.invoice_number)} class="mono">{note.invoice_number}</Link>
                </>
              )}
            </span>
          </p>
          {note && <p class="doc-reason">{t("creditNote.reasonIs", { reason: note.reason })}</p>}
          <div class="button-row">
            <a class="button button--primary" href={pdfHref(kind, number)} target="_blank" rel="noopener" data-pdf>
              {t("invoice.openPdf")}
            </a>
            <ShareButton kind={kind} number={number} />
            {invoice && manager && invoice.status !== "credited" && (
              <button
                type="button"
                class="button button--secondary"
                aria-expanded={crediting.value}
                onClick={() => (crediting.value = !crediting.value)}
              >
                {t("invoice.issueCreditNote")}
              </button>
            )}
          </div>
          {invoice && crediting.value && (
            <CreditNoteForm
              invoice={invoice}
              onIssued={() => void reload()}
            />
          )}
          {invoice && (invoice.credit_notes ?? []).length > 0 && (
            <>
              <h2 id="doc-credit-notes" class="section-title">{t("invoice.creditNotes")}</h2>
              <ul class="list" aria-labelledby="doc-credit-notes">
                {(invoice.credit_notes ?? []).map((n) => (
                  <li key={n}>
                    <Link href={paths.creditNote(n)} class="row" data-number={n}>
                      <span class="row__main"><span class="row__title mono">{n}</span></span>
                      <Icon name="chevron" size={20} />
                    </Link>
                  </li>
                ))}
              </ul>
            </>
          )}
          <StatementView statement={doc.statement} />
        </>
      )}
    </section>
  );
}
