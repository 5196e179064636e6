/** A manager issues a credit note against an invoice: the whole of it, or some lines' units and the
 * shipping, with a reason. The server checks it against what the invoice still holds and says
 * why when it refuses (credit_exceeds_invoice, nothing_to_credit…). Online only: a legal document
 * is numbered when the server issues it. */
import { useSignal } from "@preact/signals";

import { api, unwrap, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { Link } from "../../components/Link";
import { locale, t } from "../../i18n";
import { paths } from "../../routes";
import { creditBody, type CreditForm } from "./invoices";

type Invoice = Schemas["InvoiceOut"];

export function CreditNoteForm({ invoice, onIssued }: { invoice: Invoice; onIssued: () => void }) {
  const form = useSignal<CreditForm>({ reason: "", whole: true, quantities: {}, shipping: false });
  const busy = useSignal(false);
  const refusal = useSignal<string | null>(null);
  const issued = useSignal<string | null>(null);
  const goods = invoice.statement.lines.filter((l) => !l.shipping);
  const hasShipping = invoice.statement.lines.some((l) => l.shipping);
  const set = (next: Partial<CreditForm>) => (form.value = { ...form.value, ...next });

  const submit = async (e: Event) => {
    e.preventDefault();
    refusal.value = null;
    const body = creditBody(form.value);
    if ("missing" in body) {
      refusal.value = t(`creditNote.missing.${body.missing}`);
      return;
    }
    busy.value = true;
    try {
      const note = await unwrap(
        api.POST("/api/invoices/{number}/credit-notes", { params: { path: { number: invoice.number } }, body }),
      );
      issued.value = note.number;
      form.value = { ...form.value, reason: "", quantities: {}, shipping: false };
      onIssued();
    } catch (error) {
      refusal.value = describeError(error, locale.value);
    } finally {
      busy.value = false;
    }
  };

  const f = form.value;
  return (
    <>
      <form class="form order-form credit-form" onSubmit={(e) => void submit(e)} noValidate>
        <fieldset class="field">
          <legend class="field__label">{t("creditNote.what")}</legend>
          <label class="check">
            <input type="radio" name="credit-scope" checked={f.whole} onChange={() => set({ whole: true })} />
            {t("creditNote.whole")}
          </label>
          <label class="check">
            <input type="radio" name="credit-scope" checked={!f.whole} onChange={() => set({ whole: false })} />
            {t("creditNote.some")}
          </label>
        </fieldset>
        {!f.whole && (
          <>
            {goods.map((line) => (
              <div class="field" key={line.position}>
                <label class="field__label" for={`credit-${line.position}`}>
                  {t("creditNote.units", { name: line.name, quantity: line.quantity })}
                </label>
                <input
                  id={`credit-${line.position}`}
                  type="number"
                  inputMode="numeric"
                  min={0}
                  max={line.quantity}
                  value={f.quantities[line.position] ?? ""}
                  onInput={(e) => set({ quantities: { ...form.value.quantities, [line.position]: e.currentTarget.value } })}
                />
              </div>
            ))}
            {hasShipping && (
              <label class="check">
                <input type="checkbox" checked={f.shipping} onChange={(e) => set({ shipping: e.currentTarget.checked })} />
                {t("creditNote.shipping")}
              </label>
            )}
          </>
        )}
        <div class="field">
          <label class="field__label" for="credit-reason">{t("creditNote.reasonLabel")}</label>
          <input id="credit-reason" required maxLength={500} value={f.reason} onInput={(e) => set({ reason: e.currentTarget.value })} />
        </div>
        <button type="submit" class="button button--danger button--block" disabled={busy.value}>
          {t("creditNote.submit")}
        </button>
        {refusal.value && <p class="outcome outcome--refused" role="alert">{refusal.value}</p>}
      </form>
      {issued.value && (
        <p class="outcome outcome--done" role="status">
          {t("creditNote.issued")} <Link href={paths.creditNote(issued.value)} class="mono">{issued.value}</Link>
        </p>
      )}
    </>
  );
}
