"""Reading invoices and credit notes: one by number, and lists with filters, the search box
and keyset pagination (newest first on (issued_at, id), the cursor codec of pagination.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, tuple_, union
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.errors import InvalidInput
from comptoir.invoicing import numbering
from comptoir.invoicing.models import CreditNote, Invoice
from comptoir.invoicing.schemas import (
    CreditNoteOut,
    CreditNotePage,
    CreditNoteSummary,
    InvoiceOut,
    InvoicePage,
    InvoiceSummary,
)
from comptoir.invoicing.service import not_found, statement_of
from comptoir.pagination import MAX_LIMIT, decode_time_cursor, encode_cursor

__all__ = [
    "INVOICE_STATUSES",
    "Invoiced",
    "documented_between",
    "get_credit_note",
    "get_invoice",
    "invoiced_of",
    "list_credit_notes",
    "list_invoices",
]

INVOICE_STATUSES = ("issued", "partially_credited", "credited")
CREDIT_NOTE_STATUSES = ("issued",)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _like_escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _channel_of(principal: Principal) -> str | None:
    """A sales channel's key sees its own channel's documents only."""
    return principal.channel if principal.role == "channel" else None


def _filtered(model: type[Invoice] | type[CreditNote], principal: Principal, *,
              statuses: tuple[str, ...], issued_from: dt.datetime | None,
              issued_to: dt.datetime | None, customer: str | None, order: str | None,
              channel: str | None, status: str | None, q: str | None,
              cursor: str | None) -> Any:
    query = select(model)
    if issued_from is not None and issued_to is not None and issued_from > issued_to:
        raise InvalidInput("'from' comes after 'to': give the earlier date first.",
                           code="invalid_date_range")
    own = _channel_of(principal)
    if own is not None:
        query = query.where(model.channel == own)
    if issued_from is not None:
        query = query.where(model.issued_at >= _utc(issued_from))
    if issued_to is not None:
        query = query.where(model.issued_at < _utc(issued_to))
    if channel:
        query = query.where(model.channel == channel.strip())
    if order:
        query = query.where(model.order_number == order.strip().upper())
    if customer and customer.strip():
        wanted = customer.strip()
        if "@" in wanted:
            query = query.where(model.customer_email == wanted.lower())
        else:
            try:
                query = query.where(model.customer_id == uuid.UUID(wanted))
            except ValueError:
                raise InvalidInput("customer is a customer id or an e-mail address.",
                                   code="invalid_customer") from None
    if status:
        asked = [s.strip() for s in status.split(",") if s.strip()]
        unknown = [s for s in asked if s not in statuses]
        if unknown:
            raise InvalidInput(f"Unknown status {', '.join(unknown)}; one of "
                               f"{', '.join(statuses)}.", code="unknown_status",
                               allowed=list(statuses))
        query = query.where(model.status.in_(asked))
    if q and q.strip():
        needle = " ".join(q.split())
        if numbering.looks_like_number(needle):  # a whole document or order number
            query = query.where(or_(model.number == needle.upper(),
                                    model.order_number == needle.upper()))
        else:
            query = query.where(model.search.like(f"%{_like_escape(needle.lower())}%",
                                                  escape="\\"))
    if cursor:
        after_at, after_id = decode_time_cursor(cursor)
        query = query.where(tuple_(model.issued_at, model.id) < (after_at, after_id))
    return query.order_by(model.issued_at.desc(), model.id.desc())


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"A page holds 1 to {MAX_LIMIT} documents.", code="invalid_limit")


def _invoice_summary(row: Invoice) -> InvoiceSummary:
    return InvoiceSummary(
        number=row.number, order_number=row.order_number, channel=row.channel,
        customer_name=row.customer_name, customer_email=row.customer_email,
        issued_at=row.issued_at, currency=row.currency, net=row.net, vat=row.vat,
        gross=row.gross, credited=row.credited, status=row.status)


def _credit_note_summary(row: CreditNote) -> CreditNoteSummary:
    return CreditNoteSummary(
        number=row.number, invoice_number=row.invoice_number, order_number=row.order_number,
        channel=row.channel, customer_name=row.customer_name,
        customer_email=row.customer_email, issued_at=row.issued_at, currency=row.currency,
        net=row.net, vat=row.vat, gross=row.gross, status=row.status, reason=row.reason)


async def list_invoices(
    session: AsyncSession, principal: Principal, *, issued_from: dt.datetime | None = None,
    issued_to: dt.datetime | None = None, customer: str | None = None,
    order: str | None = None, channel: str | None = None, status: str | None = None,
    q: str | None = None, cursor: str | None = None, limit: int = 50,
) -> InvoicePage:
    _check_limit(limit)
    query = _filtered(Invoice, principal, statuses=INVOICE_STATUSES, issued_from=issued_from,
                      issued_to=issued_to, customer=customer, order=order, channel=channel,
                      status=status, q=q, cursor=cursor)
    rows = list(await session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return InvoicePage(items=[_invoice_summary(row) for row in rows],
                       next_cursor=encode_cursor(rows[-1].issued_at, rows[-1].id)
                       if more else None)


async def list_credit_notes(
    session: AsyncSession, principal: Principal, *, issued_from: dt.datetime | None = None,
    issued_to: dt.datetime | None = None, customer: str | None = None,
    order: str | None = None, channel: str | None = None, status: str | None = None,
    q: str | None = None, cursor: str | None = None, limit: int = 50,
) -> CreditNotePage:
    _check_limit(limit)
    query = _filtered(CreditNote, principal, statuses=CREDIT_NOTE_STATUSES,
                      issued_from=issued_from, issued_to=issued_to, customer=customer,
                      order=order, channel=channel, status=status, q=q, cursor=cursor)
    rows = list(await session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return CreditNotePage(items=[_credit_note_summary(row) for row in rows],
                          next_cursor=encode_cursor(rows[-1].issued_at, rows[-1].id)
                          if more else None)


async def get_invoice(session: AsyncSession, number: str, principal: Principal) -> InvoiceOut:
    row = await session.scalar(select(Invoice).where(Invoice.number == number.strip().upper()))
    own = _channel_of(principal)
    if row is None or (own is not None and row.channel != own):
        raise not_found("invoice", number)
    notes = list(await session.scalars(
        select(CreditNote.number).where(CreditNote.invoice_id == row.id)
        .order_by(CreditNote.issued_at, CreditNote.number)))
    summary = _invoice_summary(row)
    return InvoiceOut(**{f: getattr(summary, f) for f in summary.__struct_fields__},
                      statement=statement_of(row), credit_notes=notes)


async def get_credit_note(session: AsyncSession, number: str,
                          principal: Principal) -> CreditNoteOut:
    row = await session.scalar(
        select(CreditNote).where(CreditNote.number == number.strip().upper()))
    own = _channel_of(principal)
    if row is None or (own is not None and row.channel != own):
        raise not_found("credit_note", number)
    summary = _credit_note_summary(row)
    return CreditNoteOut(**{f: getattr(summary, f) for f in summary.__struct_fields__},
                         statement=statement_of(row))


# --- for reports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invoiced:
    """What an order's invoices state in all (gross) and what its credit notes took back."""

    invoiced: int
    credited: int
    invoices: tuple[str, ...]
    credit_notes: tuple[str, ...]


async def invoiced_of(session: AsyncSession,
                      order_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Invoiced]:
    """Each order's invoiced and credited gross amounts with the documents' numbers, oldest
    first (orders with no invoice are absent)."""
    if not order_ids:
        return {}
    ids = list(order_ids)
    invoices: dict[uuid.UUID, list[tuple[str, int]]] = {}
    notes: dict[uuid.UUID, list[tuple[str, int]]] = {}
    for found, model in ((invoices, Invoice), (notes, CreditNote)):
        for order_id, number, gross in await session.execute(
                select(model.order_id, model.number, model.gross)
                .where(model.order_id.in_(ids)).order_by(model.issued_at, model.number)):
            found.setdefault(order_id, []).append((number, int(gross)))
    return {order_id: Invoiced(
        invoiced=sum(gross for _n, gross in rows),
        credited=sum(gross for _n, gross in notes.get(order_id, [])),
        invoices=tuple(number for number, _g in rows),
        credit_notes=tuple(number for number, _g in notes.get(order_id, [])))
        for order_id, rows in invoices.items()}


async def documented_between(session: AsyncSession, start: dt.datetime,
                             end: dt.datetime) -> set[uuid.UUID]:
    """The orders that had an invoice or a credit note issued from ``start`` (included) to
    ``end`` (excluded)."""
    return set(await session.scalars(union(*(
        select(model.order_id).where(model.issued_at >= start, model.issued_at < end)
        for model in (Invoice, CreditNote)))))
