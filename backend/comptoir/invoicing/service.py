"""Invoicing's use cases: issue an invoice for the goods that left and are not invoiced yet
(automatically when they leave, or on a manager's demand), issue a credit note against an
invoice (``crediting.py``), read them.

Each issue happens in the caller's transaction: the number is drawn from the counter row of
its legal entity, kind and year (one upsert that keeps the row locked until the transaction
ends), so a rolled-back issue gives its number back and two issues never get the same one,
on SQLite and PostgreSQL, in any number of processes. The number is drawn last, just before
the rows are written, to hold that lock as briefly as possible.

What an order has had invoiced is the sum of its invoices' lines; credit notes do not give
units back to invoice (a returned or written-off unit is not to be invoiced again).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.config import service as config
from comptoir.config.schemas import CompanyOut
from comptoir.db.base import new_id, utcnow
from comptoir.errors import Conflict, NotFound
from comptoir.events.service import record_event
from comptoir.events.types import EventType
from comptoir.invoicing import numbering, totals
from comptoir.invoicing.models import CreditNote, DocumentNumberCounter, Invoice, InvoicedLine
from comptoir.invoicing.schemas import BusinessBuyerIn
from comptoir.invoicing.snapshot import (
    Address,
    Buyer,
    Kind,
    Seller,
    Statement,
    Terms,
)
from comptoir.orders import lifecycle
from comptoir.orders.models import Order, OrderLine

__all__ = [
    "SELLER_TIME",
    "Trigger",
    "draw_number",
    "entity_of",
    "goods_left",
    "invoicing_company",
    "issue_invoice",
    "not_found",
    "search_text",
    "seller_of",
    "statement",
    "statement_of",
]

# The seller's calendar: the issue date and the numbering year are French days.
SELLER_TIME = ZoneInfo("Europe/Paris")
DEFAULT_LANGUAGE = "fr"  # a document's language when the order does not say the customer's
RECOVERY_INDEMNITY = 4000  # the 40 € fixed indemnity for recovery costs (Code de commerce L441-10)
NO_EARLY_DISCOUNT = {"fr": "Pas d'escompte pour paiement anticipé",
                     "en": "No discount for early payment"}
SHIPPING_NAME = {"fr": "Livraison", "en": "Shipping"}

Trigger = Literal["shipment", "handover", "manager"]

# Text, not an on_conflict_do_update() construct: SQLAlchemy would compile that every time.
_DRAW = text(
    f'INSERT INTO {DocumentNumberCounter.__tablename__} (entity, kind, "year", "last") '
    "VALUES (:entity, :kind, :year, 1) ON CONFLICT (entity, kind, \"year\") DO UPDATE SET "
    f'"last" = {DocumentNumberCounter.__tablename__}."last" + 1 RETURNING "last"')


async def draw_number(session: AsyncSession, *, entity: str, kind: Kind, prefix: str,
                      year: int) -> str:
    """The next number of ``kind`` for ``entity`` in ``year``, in the session's transaction."""
    serial = (await session.execute(
        _DRAW, {"entity": entity, "kind": kind, "year": year})).scalar_one()
    return numbering.format_number(prefix, year, int(serial))


def entity_of(company: CompanyOut) -> str:
    """The legal entity numbers run for: its SIREN (a new SIREN starts a new sequence)."""
    return company.siren.strip() or "main"


async def invoicing_company() -> CompanyOut:
    company = await config.company()
    if company is None or not company.legal_name.strip():
        raise Conflict("Invoicing needs the company's legal details: fill in the Company "
                       "table in the configuration first.", code="invoicing_not_configured")
    return company


def seller_of(company: CompanyOut) -> Seller:
    return Seller(
        legal_name=company.legal_name, legal_form=company.legal_form,
        share_capital=company.share_capital, siren=company.siren, siret=company.siret,
        rcs=company.rcs, vat_number=company.vat_number, email=company.email,
        phone=company.phone, website=company.website,
        address=Address(name=company.legal_name, line1=company.address_line1,
                        line2=company.address_line2, postal_code=company.postal_code,
                        city=company.city, country=company.country or "FR"))


def _ship_to(order: Order) -> Address | None:
    ship_to = order.ship_to or {}
    if not ship_to:
        return None
    return Address(name=str(ship_to.get("name") or ""), line1=str(ship_to.get("line1") or ""),
                   line2=str(ship_to.get("line2") or ""),
                   postal_code=str(ship_to.get("postal_code") or ""),
                   city=str(ship_to.get("city") or ""),
                   country=str(ship_to.get("country") or "FR").upper())


def _buyer(order: Order, business: BusinessBuyerIn | None) -> Buyer:
    name = order.customer_name or (order.ship_to or {}).get("name") or order.customer_email or ""
    if business is None:
        return Buyer(name=str(name), email=order.customer_email or "", address=_ship_to(order))
    billing = business.billing_address
    address = (Address(name=billing.name or business.company, line1=billing.line1,
                       line2=billing.line2, postal_code=billing.postal_code, city=billing.city,
                       country=billing.country.upper())
               if billing is not None else _ship_to(order))
    return Buyer(name=str(name) or business.company,
                 email=business.email or order.customer_email or "", business=True,
                 company=business.company, vat_number=business.vat_number.strip().upper(),
                 siret=business.siret, address=address)


def _terms(issue_date: dt.date, company: CompanyOut, buyer: Buyer, currency: str,
           language: str) -> Terms:
    if not buyer.business:
        return Terms(due_date=issue_date)
    return Terms(due_date=issue_date + dt.timedelta(days=max(company.payment_terms_days, 0)),
                 late_penalty_rate=company.late_penalty_rate,
                 recovery_indemnity=RECOVERY_INDEMNITY if currency == "EUR" else 0,
                 early_payment_discount=NO_EARLY_DISCOUNT.get(language, NO_EARLY_DISCOUNT["en"]))


def search_text(*parts: str) -> str:
    return " ".join(part.lower() for part in parts if part)


async def _invoiced(session: AsyncSession, order_id: uuid.UUID) -> tuple[
    dict[uuid.UUID, int], bool
]:
    """Units invoiced so far per order line, and whether the shipping was."""
    rows = (await session.execute(
        select(InvoicedLine.order_line_id, InvoicedLine.shipping, func.sum(InvoicedLine.quantity))
        .where(InvoicedLine.order_id == order_id, InvoicedLine.credit_note_id.is_(None))
        .group_by(InvoicedLine.order_line_id, InvoicedLine.shipping))).all()
    units = {line_id: int(total) for line_id, shipping, total in rows
             if line_id is not None and not shipping}
    return units, any(shipping for _line, shipping, _total in rows)


async def goods_left(session: AsyncSession, order: Order,
                     delivered: Callable[[], Awaitable[Mapping[uuid.UUID, int]]],
                     *, actor: str, trigger: Trigger) -> Invoice | None:
    """Fulfillment's hook, in its transaction, when a parcel ships or a pickup is handed
    over: the invoice the company's policy calls for now, if any. ``delivered()`` reads the
    units of each order line that have left so far, this step's included: only when an
    invoice is due now.

    Without the company's legal details invoicing is not set up: nothing is issued."""
    company = await config.company()
    if company is None or not company.legal_name.strip():
        return None
    if company.invoicing_policy == "per_order" and order.status not in lifecycle.ALL_LEFT:
        return None
    return await issue_invoice(session, order, await delivered(), actor=actor,
                               trigger=trigger, company=company, required=False)


async def issue_invoice(
    session: AsyncSession, order: Order, delivered: Mapping[uuid.UUID, int], *, actor: str,
    trigger: Trigger, buyer: BusinessBuyerIn | None = None, language: str | None = None,
    company: CompanyOut | None = None, required: bool = True,
) -> Invoice | None:
    """Invoice what of ``delivered`` is not invoiced yet (the order row locked by the caller),
    in ``language``, else the customer's (the order's), else French.

    Nothing to invoice: 409 ``order_not_delivered`` (nothing left yet) or ``already_invoiced``
    when ``required``, else None."""
    language = language or order.language or DEFAULT_LANGUAGE
    company = company or await invoicing_company()
    invoiced, shipping_invoiced = await _invoiced(session, order.id)
    due = {line_id: quantity - invoiced.get(line_id, 0)
           for line_id, quantity in delivered.items() if quantity > invoiced.get(line_id, 0)}
    if not due:
        if not required:
            return None
        if not any(quantity > 0 for quantity in delivered.values()):
            raise Conflict(f"Nothing of {order.number} has shipped or been handed over yet: "
                           "there is nothing to invoice.", code="order_not_delivered")
        raise Conflict(f"Everything that left for {order.number} is already invoiced.",
                       code="already_invoiced")
    lines = list(await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    stated = totals.invoice_lines(order, lines, due, with_shipping=not shipping_invoiced,
                                  shipping_name=SHIPPING_NAME.get(language, "Shipping"))
    issued_at = utcnow()
    issue_date = issued_at.astimezone(SELLER_TIME).date()
    buyer_ = _buyer(order, buyer)
    net, vat, gross = totals.document_totals(stated)
    entity = entity_of(company)
    number = await draw_number(session, entity=entity, kind="invoice",
                               prefix=company.invoice_prefix or "FA", year=issue_date.year)
    snapshot = Statement(
        kind="invoice", number=number, issued_at=issued_at, issue_date=issue_date,
        language=language, currency=order.currency, seller=seller_of(company), buyer=buyer_,
        lines=stated, rates=totals.rate_totals(stated), net=net, vat=vat, gross=gross,
        terms=_terms(issue_date, company, buyer_, order.currency, language),
        order_number=order.number,
        order_date=order.created_at.astimezone(SELLER_TIME).date(), channel=order.channel,
        delivery_address=_ship_to(order), logo_path=company.logo_path)
    invoice = Invoice(
        id=new_id(), number=number, entity=entity, order_id=order.id,
        order_number=order.number, channel=order.channel, customer_id=order.customer_id,
        customer_name=buyer_.company or buyer_.name, customer_email=buyer_.email.lower(),
        issued_at=issued_at, currency=order.currency, net=net, vat=vat, gross=gross,
        status="issued", statement=msgspec.to_builtins(snapshot), prices_include_tax=bool(
            order.prices_include_tax), credited=0, issued_by=actor,
        search=search_text(number, order.number, buyer_.name, buyer_.email, buyer_.company))
    session.add(invoice)
    prices = {line.id: line.unit_price for line in lines}
    for line in stated:
        order_line_id = uuid.UUID(line.order_line_id) if line.order_line_id else None
        session.add(InvoicedLine(
            id=new_id(), invoice_id=invoice.id, credit_note_id=None, order_id=order.id,
            position=line.position, order_line_id=order_line_id, shipping=line.shipping,
            quantity=line.quantity,
            unit_price=prices.get(order_line_id, line.unit_price_net) if order_line_id
            else line.unit_price_net,
            vat_rate_bp=line.vat_rate_bp, net=line.net, vat=line.vat, gross=line.gross))
    await record_event(
        session, topic="order", type=EventType.INVOICE_ISSUED, subject=order.number,
        actor=actor, data={
            "number": number, "trigger": trigger, "currency": order.currency, "net": net,
            "vat": vat, "gross": gross, "business": buyer_.business,
            "lines": [{"sku": line.sku, "quantity": line.quantity}
                      for line in stated if not line.shipping],
            "shipping": any(line.shipping for line in stated)})
    await session.flush()
    return invoice


# --- reading -----------------------------------------------------------------------------------


def not_found(kind: Literal["invoice", "credit_note"], number: str) -> NotFound:
    if kind == "invoice":
        return NotFound(f"No invoice {number}.", code="invoice_not_found")
    return NotFound(f"No credit note {number}.", code="credit_note_not_found")


def statement_of(document: Invoice | CreditNote) -> Statement:
    """What an issued document states, as stored at issue."""
    return msgspec.convert(document.statement, Statement)


async def statement(session: AsyncSession, number: str) -> Statement:
    """What the invoice or credit note ``number`` states, as issued (404 if there is none).

    The one source for the PDF, the Factur-X XML and the accounting export."""
    wanted = number.strip().upper()
    document: Invoice | CreditNote | None = await session.scalar(
        select(Invoice).where(Invoice.number == wanted))
    if document is None:
        document = await session.scalar(select(CreditNote).where(CreditNote.number == wanted))
    if document is None:
        raise not_found("invoice", number)
    return statement_of(document)
