"""Credit notes: the only correction of an issued invoice. Against one invoice, for some of
its lines, its shipping, all it still holds, or an amount (a commercial gesture split over
its VAT rates); and for an order, the refunds' side: its lines or an amount credited on
whichever invoices state them, oldest first. A credit note never goes beyond what its
invoice still holds; its number is drawn like an invoice's (``service.draw_number``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.db.base import new_id, utcnow
from comptoir.errors import Conflict, InvalidInput
from comptoir.events.service import record_event
from comptoir.events.types import EventType
from comptoir.invoicing import totals
from comptoir.invoicing.models import CreditNote, Invoice, InvoicedLine
from comptoir.invoicing.schemas import CreditLineIn, CreditNoteIn
from comptoir.invoicing.service import (
    SELLER_TIME,
    draw_number,
    invoicing_company,
    not_found,
    search_text,
    seller_of,
)
from comptoir.invoicing.snapshot import Statement, Terms
from comptoir.orders.models import Order

__all__ = [
    "CreditedUnits",
    "credit_order_amount",
    "credit_order_lines",
    "credited_units",
    "issue_credit_note",
]

GESTURE_NAME = {"fr": "Geste commercial", "en": "Commercial gesture"}


async def _held(session: AsyncSession, invoice: Invoice) -> list[totals.Held]:
    """The invoice's lines with what its credit notes left of each."""
    rows = list(await session.scalars(
        select(InvoicedLine).where(InvoicedLine.invoice_id == invoice.id)))
    stated = msgspec.convert(invoice.statement, Statement).lines
    own = {row.position: row for row in rows if row.credit_note_id is None}
    credited: dict[int, tuple[int, int, int]] = {}
    for row in rows:
        if row.credit_note_id is not None:
            q, n, v = credited.get(row.position, (0, 0, 0))
            credited[row.position] = (q + row.quantity, n + row.net, v + row.vat)
    held = []
    for line in stated:
        q, n, v = credited.get(line.position, (0, 0, 0))
        mine = own.get(line.position)
        held.append(totals.Held(line=line, unit_price=mine.unit_price if mine else 0,
                                quantity=line.quantity - q, net=line.net - n, vat=line.vat - v))
    return held


def _positions(held: Sequence[totals.Held], data: CreditNoteIn) -> dict[int, int]:
    """The asked units per invoice line position; 422 for a line the invoice does not have."""
    by_order_line = {h.line.order_line_id: h.line.position for h in held if h.line.order_line_id}
    asked: dict[int, int] = {}
    for item in data.lines:
        if item.quantity <= 0:
            raise InvalidInput("Quantities to credit are 1 or more.", code="invalid_quantity")
        if (item.position is None) == (item.order_line_id is None):
            raise InvalidInput("Name each line by its position on the invoice or by its "
                               "order_line_id (one of them).", code="invalid_input")
        position = (item.position if item.position is not None
                    else by_order_line.get(str(item.order_line_id)))
        if position is None:
            raise InvalidInput(f"The order line {item.order_line_id} is not on this invoice.",
                               code="line_not_invoiced")
        asked[position] = asked.get(position, 0) + item.quantity
    return asked


async def issue_credit_note(session: AsyncSession, invoice_number: str, data: CreditNoteIn, *,
                            actor: str, channel: str | None = None) -> CreditNote:
    """A credit note against the invoice ``invoice_number``, in the caller's transaction."""
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput("Say why the credit note is issued.", code="credit_note_reason_required")
    by_amount = data.amount is not None
    if sum((data.whole, bool(data.lines or data.shipping), by_amount)) > 1:
        raise InvalidInput("A credit note is whole, names lines and/or shipping, or an amount: "
                           "one of them.", code="invalid_input")
    if not data.whole and not data.lines and not data.shipping and not by_amount:
        raise InvalidInput("Say what to credit: whole, lines, shipping or an amount.",
                           code="line_required")
    invoice = await session.scalar(
        select(Invoice).where(Invoice.number == invoice_number.strip().upper())
        .with_for_update().execution_options(populate_existing=True))
    if invoice is None or (channel is not None and invoice.channel != channel):
        raise not_found("invoice", invoice_number)
    held = await _held(session, invoice)
    corrected = msgspec.convert(invoice.statement, Statement)
    if data.amount is not None:
        credited = totals.gesture_lines(corrected.rates, data.amount,
                                        name=GESTURE_NAME.get(corrected.language, "Discount"))
    else:
        credited = totals.credit_lines(held, _positions(held, data), shipping=data.shipping,
                                       whole=data.whole,
                                       prices_include_tax=invoice.prices_include_tax)
    stated = tuple(line for _position, line in credited)
    if invoice.credited + sum(line.gross for line in stated) > invoice.gross:
        raise Conflict(f"Invoice {invoice.number} holds {invoice.gross - invoice.credited} not "
                       "credited yet: this credit note would go beyond it.",
                       code="credit_exceeds_invoice",
                       remaining=invoice.gross - invoice.credited)
    company = await invoicing_company()
    issued_at = utcnow()
    issue_date = issued_at.astimezone(SELLER_TIME).date()
    net, vat, gross = totals.document_totals(stated)
    number = await draw_number(session, entity=invoice.entity, kind="credit_note",
                               prefix=company.credit_note_prefix or "AV", year=issue_date.year)
    snapshot = msgspec.structs.replace(
        corrected, kind="credit_note", number=number, issued_at=issued_at,
        issue_date=issue_date, seller=seller_of(company), lines=stated,
        rates=totals.rate_totals(stated), net=net, vat=vat, gross=gross,
        terms=Terms(due_date=issue_date), corrects=invoice.number, reason=reason,
        logo_path=company.logo_path)
    note = CreditNote(
        id=new_id(), number=number, entity=invoice.entity, order_id=invoice.order_id,
        order_number=invoice.order_number, channel=invoice.channel,
        customer_id=invoice.customer_id, customer_name=invoice.customer_name,
        customer_email=invoice.customer_email, issued_at=issued_at, currency=invoice.currency,
        net=net, vat=vat, gross=gross, status="issued", statement=msgspec.to_builtins(snapshot),
        search=search_text(number, invoice.search, reason), issued_by=actor,
        invoice_id=invoice.id, invoice_number=invoice.number, reason=reason)
    session.add(note)
    by_position = {h.line.position: h for h in held}
    for position, line in credited:
        session.add(InvoicedLine(
            id=new_id(), invoice_id=invoice.id, credit_note_id=note.id,
            order_id=invoice.order_id, position=position,
            order_line_id=uuid.UUID(line.order_line_id) if line.order_line_id else None,
            shipping=line.shipping, quantity=line.quantity,
            unit_price=(by_position[position].unit_price if position in by_position
                        else line.unit_price_net), vat_rate_bp=line.vat_rate_bp,
            net=line.net, vat=line.vat, gross=line.gross))
    invoice.credited += gross
    invoice.status = "credited" if invoice.credited >= invoice.gross else "partially_credited"
    await record_event(
        session, topic="order", type=EventType.CREDIT_NOTE_ISSUED, subject=invoice.order_number,
        actor=actor, data={
            "number": number, "invoice_number": invoice.number, "reason": reason,
            "currency": invoice.currency, "net": net, "vat": vat, "gross": gross,
            "whole": invoice.status == "credited" and data.whole})
    await session.flush()
    return note


async def credit_order_lines(session: AsyncSession, order: Order, units: Mapping[uuid.UUID, int],
                             *, shipping: bool, reason: str, actor: str) -> list[CreditNote]:
    """Credit ``units`` of the order's lines (and its shipping) on the invoices that state
    them, oldest invoice first: a refund by lines, with its credit notes. Units that no
    invoice states (they never left) are not credited: there is nothing to correct."""
    wanted = {line_id: quantity for line_id, quantity in units.items() if quantity > 0}
    notes: list[CreditNote] = []
    invoices = list(await session.scalars(
        select(Invoice).where(Invoice.order_id == order.id)
        .order_by(Invoice.issued_at, Invoice.number)))
    for invoice in invoices:
        held = await _held(session, invoice)
        lines: list[CreditLineIn] = []
        for h in held:
            line_id = uuid.UUID(h.line.order_line_id) if h.line.order_line_id else None
            take = min(wanted.get(line_id, 0), h.quantity) if line_id else 0
            if take > 0 and line_id is not None:
                lines.append(CreditLineIn(order_line_id=line_id, quantity=take))
                wanted[line_id] -= take
        fee = shipping and any(h.line.shipping and h.quantity > 0 for h in held)
        if lines or fee:
            notes.append(await issue_credit_note(
                session, invoice.number, CreditNoteIn(reason=reason, lines=lines, shipping=fee),
                actor=actor))
            shipping = shipping and not fee
    return notes


async def credit_order_amount(session: AsyncSession, order: Order, amount: int, *,
                              reason: str, actor: str) -> list[CreditNote]:
    """Credit ``amount`` (tax included) of the order's invoices, oldest first, each as far as
    it holds: a refund by amount, with its credit notes. What goes beyond what was invoiced
    (money paid for goods not invoiced yet) has no invoice to correct."""
    notes: list[CreditNote] = []
    left = amount
    invoices = list(await session.scalars(
        select(Invoice).where(Invoice.order_id == order.id)
        .order_by(Invoice.issued_at, Invoice.number)))
    for invoice in invoices:
        take = min(left, invoice.gross - invoice.credited)
        if take > 0:
            notes.append(await issue_credit_note(
                session, invoice.number, CreditNoteIn(reason=reason, amount=take), actor=actor))
            left -= take
    return notes


@dataclass(frozen=True, slots=True)
class CreditedUnits:
    """Units of an order line a credit note credited, and what it stated for them."""

    order_line_id: uuid.UUID
    credit_note: str
    quantity: int
    gross: int


async def credited_units(session: AsyncSession, order_id: uuid.UUID) -> list[CreditedUnits]:
    """The order's goods lines credited so far, oldest credit note first."""
    rows = (await session.execute(
        select(InvoicedLine.order_line_id, CreditNote.number, InvoicedLine.quantity,
               InvoicedLine.gross)
        .join(CreditNote, CreditNote.id == InvoicedLine.credit_note_id)
        .where(InvoicedLine.order_id == order_id, InvoicedLine.order_line_id.is_not(None),
               InvoicedLine.shipping.is_(False))
        .order_by(CreditNote.issued_at, CreditNote.number))).all()
    return [CreditedUnits(line_id, number, int(quantity), int(gross))
            for line_id, number, quantity, gross in rows]
