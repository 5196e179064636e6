"""Invoice and credit-note endpoints: issue on demand (managers), credit, read and list.

There is no route that changes or deletes an issued document: PUT, PATCH and DELETE on them
answer 405. A correction is a credit note.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import MANAGERS, allow
from comptoir.auth.schemas import Principal
from comptoir.errors import DomainError
from comptoir.fulfillment.reading import delivered_units
from comptoir.invoicing import crediting, downloads, exporting, reading, service
from comptoir.invoicing.schemas import (
    CreditNoteIn,
    CreditNoteOut,
    CreditNotePage,
    InvoiceIn,
    InvoiceOut,
    InvoicePage,
)
from comptoir.invoicing.snapshot import Statement
from comptoir.orders.reading import find_order

__all__ = ["AccountingExportController", "CreditNotesController", "InvoicesController",
           "OrderInvoicesController"]

READERS = allow(MANAGERS, "channel")  # a channel's key: its own channel's documents only
From = Annotated[dt.datetime | None, QueryParameter(name="from")]
To = Annotated[dt.datetime | None, QueryParameter(name="to")]
PDF_DESCRIPTION = ("The document's PDF: a Factur-X (EN 16931) file, the same bytes on every "
                   "download. Also at `{number}.pdf` (web/suffixes.py).")


async def pdf_answer(statement: Statement, state: State) -> Response[bytes]:
    """The PDF download of an issued document (the same bytes on every download)."""
    body = await downloads.pdf_of(statement, Path(state.settings.var_dir))
    return Response(body, media_type="application/pdf", headers={
        "content-disposition": f'inline; filename="{downloads.filename(statement)}"',
        "cache-control": "private, max-age=3600"})


class OrderInvoicesController(Controller):
    path = "/api/orders"
    tags = ["invoices"]

    @post("/{number:str}/invoices", opt=allow(MANAGERS), status_code=201,
          summary="Invoice what of the order left and is not invoiced yet",
          description=(
              "For the units shipped or handed over that no invoice states yet (and the "
              "shipping, on the order's first invoice). With `buyer`, a business customer: "
              "the invoice states its company, VAT number and the B2B payment terms. 409 "
              "order_not_delivered or already_invoiced when there is nothing to invoice."))
    async def issue(self, number: str, principal: Principal, db_session: AsyncSession,
                    data: InvoiceIn | None = None) -> InvoiceOut:
        asked = data or InvoiceIn()
        try:
            # The order's lock first, as every fulfillment step takes it: what left is read
            # while no parcel can leave, and two demands are invoiced one after the other.
            order = await find_order(db_session, number, principal, for_update=True)
            invoice = await service.issue_invoice(
                db_session, order, await delivered_units(db_session, order.id),
                actor=principal.actor, trigger="manager", buyer=asked.buyer,
                language=asked.language)
            assert invoice is not None  # required: refused rather than None
            answer = await reading.get_invoice(db_session, invoice.number, principal)
            await db_session.commit()
        except DomainError:
            await db_session.rollback()
            raise
        return answer


class InvoicesController(Controller):
    path = "/api/invoices"
    tags = ["invoices"]

    @get("/", opt=READERS, summary="Invoices, newest first (cursor pagination)")
    async def list_invoices(
        self, principal: Principal, db_session: AsyncSession, issued_from: From = None,
        issued_to: To = None, customer: str | None = None, order: str | None = None,
        channel: str | None = None, status: str | None = None, q: str | None = None,
        cursor: str | None = None, limit: int = 50,
    ) -> InvoicePage:
        return await reading.list_invoices(
            db_session, principal, issued_from=issued_from, issued_to=issued_to,
            customer=customer, order=order, channel=channel, status=status, q=q,
            cursor=cursor, limit=limit)

    @get("/{number:str}", opt=READERS, summary="One invoice, as issued")
    async def get_invoice(self, number: str, principal: Principal,
                          db_session: AsyncSession) -> InvoiceOut:
        return await reading.get_invoice(db_session, number, principal)

    @get("/{number:str}/pdf", opt=READERS, summary="An invoice's PDF (Factur-X)",
         description=PDF_DESCRIPTION, media_type="application/pdf")
    async def invoice_pdf(self, number: str, principal: Principal, db_session: AsyncSession,
                          state: State) -> Response[bytes]:
        found = await reading.get_invoice(db_session, number, principal)
        return await pdf_answer(found.statement, state)

    @post("/{number:str}/credit-notes", opt=allow(MANAGERS), status_code=201,
          summary="Issue a credit note against the invoice",
          description=(
              "`whole`, or some `lines` (by position on the invoice or order_line_id, with "
              "quantities) and/or `shipping`, with a `reason`. Never more than the invoice "
              "still holds after its earlier credit notes (409 credit_exceeds_invoice)."))
    async def credit(self, number: str, data: CreditNoteIn, principal: Principal,
                     db_session: AsyncSession) -> CreditNoteOut:
        try:
            note = await crediting.issue_credit_note(db_session, number, data,
                                                   actor=principal.actor)
            answer = await reading.get_credit_note(db_session, note.number, principal)
            await db_session.commit()
        except DomainError:
            await db_session.rollback()
            raise
        return answer


class CreditNotesController(Controller):
    path = "/api/credit-notes"
    tags = ["invoices"]

    @get("/", opt=READERS, summary="Credit notes, newest first (cursor pagination)")
    async def list_credit_notes(
        self, principal: Principal, db_session: AsyncSession, issued_from: From = None,
        issued_to: To = None, customer: str | None = None, order: str | None = None,
        channel: str | None = None, status: str | None = None, q: str | None = None,
        cursor: str | None = None, limit: int = 50,
    ) -> CreditNotePage:
        return await reading.list_credit_notes(
            db_session, principal, issued_from=issued_from, issued_to=issued_to,
            customer=customer, order=order, channel=channel, status=status, q=q,
            cursor=cursor, limit=limit)

    @get("/{number:str}", opt=READERS, summary="One credit note, as issued")
    async def get_credit_note(self, number: str, principal: Principal,
                              db_session: AsyncSession) -> CreditNoteOut:
        return await reading.get_credit_note(db_session, number, principal)

    @get("/{number:str}/pdf", opt=READERS, summary="A credit note's PDF (Factur-X)",
         description=PDF_DESCRIPTION, media_type="application/pdf")
    async def credit_note_pdf(self, number: str, principal: Principal,
                              db_session: AsyncSession, state: State) -> Response[bytes]:
        found = await reading.get_credit_note(db_session, number, principal)
        return await pdf_answer(found.statement, state)


FromDay = Annotated[dt.date | None, QueryParameter(name="from")]
ToDay = Annotated[dt.date | None, QueryParameter(name="to")]


class AccountingExportController(Controller):
    path = "/api/exports"
    tags = ["invoices"]

    @get("/accounting", opt=allow(MANAGERS), media_type="text/plain",
         summary="A period's invoices and credit notes for the accountant",
         description=(
             "Every invoice and credit note issued from `from` to `to` (the seller's days, "
             "both included): `format=fec` (default) the French Fichier des écritures "
             "comptables, one balanced sales-journal entry per document (ISO-8859-15, tab "
             "separated); `csv` or `json` one row per document and VAT rate, credit notes "
             "negative. The same as `comptoir export-accounting`."))
    async def accounting(self, db_session: AsyncSession, start: FromDay = None,
                         end: ToDay = None, format: str = "fec") -> Response[bytes]:
        fmt = exporting.export_format(format)
        first, last = exporting.period(start, end)
        result = await exporting.export(db_session, first, last, fmt)
        return Response(result.body, media_type=result.media_type, headers={
            "content-disposition": f'attachment; filename="{result.filename}"'})
