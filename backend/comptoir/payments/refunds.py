"""Refunds a manager gives, by amount or by lines, with the credit notes that go with them.

By lines, the amount is what the credit notes for those units state (the units still on an
invoice get a new one; units credited and not yet refunded take theirs along) and their
share of the line where no invoice states them yet; by amount, the invoices are credited
that amount (a commercial gesture), as far as they hold. The same units are never refunded
twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.errors import Conflict, InvalidInput
from comptoir.invoicing import crediting
from comptoir.orders.models import Order, OrderLine
from comptoir.payments.reading import payments_of
from comptoir.payments.rules import Kind, TxStatus
from comptoir.payments.schemas import PaymentsOut, RefundIn
from comptoir.payments.transactions import (
    Entry,
    check_currency,
    ledger_of,
    locked_order,
    named,
    request,
)

__all__ = ["refund"]

def _refunded_units(found: Sequence[Entry]) -> dict[uuid.UUID, int]:
    """Units of each order line that refunds by lines (not failed) gave back."""
    refunded: dict[uuid.UUID, int] = {}
    for entry in found:
        if entry.tx.kind == Kind.REFUND.value and entry.status is not TxStatus.FAILED:
            for line in entry.tx.lines or ():
                key = uuid.UUID(str(line["order_line_id"]))
                refunded[key] = refunded.get(key, 0) + int(line["quantity"])
    return refunded


def _refund_units(data: RefundIn, lines: Sequence[OrderLine],
                  found: Sequence[Entry]) -> dict[uuid.UUID, int]:
    refunded = _refunded_units(found)
    units: dict[uuid.UUID, int] = {}
    for item in data.lines or []:
        if (item.line_id is None) == (item.sku is None):
            raise InvalidInput("Name each refunded line by its line_id or its sku (one of them).",
                               code="invalid_input")
        line = next((line for line in lines
                     if line.id == item.line_id or (item.sku and line.sku == item.sku)), None)
        if line is None:
            raise InvalidInput(f"The order has no line {item.line_id or item.sku}.",
                               code="line_not_found")
        if item.quantity <= 0 or units.get(line.id, 0) + item.quantity > line.quantity:
            raise InvalidInput(f"{line.sku}: refund 1 to {line.quantity} units.",
                               code="invalid_quantity", sku=line.sku, ordered=line.quantity)
        units[line.id] = units.get(line.id, 0) + item.quantity
        if units[line.id] + refunded.get(line.id, 0) > line.quantity:
            raise Conflict(f"{line.sku}: {refunded.get(line.id, 0)} of its {line.quantity} "
                           "units were refunded already.", code="refund_exceeds_line",
                           sku=line.sku, refunded=refunded.get(line.id, 0))
    return units


async def refund(session: AsyncSession, number: str, tx_id: uuid.UUID | None, data: RefundIn, *,
                 principal: Principal) -> PaymentsOut:
    """A manager gives money back, by amount or by lines, with a reason, and the credit
    notes are issued with the refund. By lines, the amount is what the credit notes for
    those units state (and their share of what they cost where no invoice states them yet);
    by amount, the invoices are credited that amount (a commercial gesture), as far as they
    hold."""
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput("Say why the money is given back.", code="refund_reason_required")
    if (data.amount is None) == (not data.lines):
        raise InvalidInput("A refund names an amount or lines (one of them).",
                           code="invalid_input")
    if data.shipping and not data.lines:
        raise InvalidInput("The shipping is refunded with lines, not with an amount.",
                           code="invalid_input")
    order, found = await locked_order(session, number, principal)
    check_currency(order, data.currency)
    if tx_id is not None:
        named(found, tx_id, number)
    ledger = ledger_of(found)
    amount, lines_out, credit_note = data.amount, None, None
    if data.lines:
        order_lines = list(await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id)))
        units = _refund_units(data, order_lines, found)
        amount, lines_out, credit_note = await _by_lines(
            session, order, order_lines, units, found, shipping=data.shipping, reason=reason,
            actor=principal.actor)
    else:
        assert amount is not None
        ledger.plan_refund(amount, tx_id)  # refused here, before any credit note
        notes = await crediting.credit_order_amount(session, order, amount, reason=reason,
                                                    actor=principal.actor)
        credit_note = ", ".join(note.number for note in notes) or None
    assert amount is not None
    provider = {e.tx.id: e.tx.provider for e in found}
    for cap, take in ledger.plan_refund(amount, tx_id):
        await request(session, order, Kind.REFUND, take, provider=provider[cap.id],
                       parent=cap.id, trigger="staff", actor=principal.actor, reason=reason,
                       lines=lines_out, credit_note=credit_note)
    return await payments_of(session, order)


async def _by_lines(session: AsyncSession, order: Order, order_lines: Sequence[OrderLine],
                    units: Mapping[uuid.UUID, int], found: Sequence[Entry], *, shipping: bool,
                    reason: str, actor: str) -> tuple[int, list[dict[str, Any]], str | None]:
    """The amount of a refund by lines, its lines, and the credit notes that go with it.

    Units a credit note credited and no refund gave back yet (a credit note issued by hand,
    or with a refund the provider refused) are refunded with that credit note, at what it
    stated; units still on an invoice get a new credit note, refunded at what it states;
    units no invoice states yet (they never left) at their share of the line."""
    by_id = {line.id: line for line in order_lines}
    lines_out: list[dict[str, Any]] = [
        {"order_line_id": str(line_id), "sku": by_id[line_id].sku,
         "name": by_id[line_id].name, "quantity": quantity,
         "amount": by_id[line_id].total * quantity // by_id[line_id].quantity}
        for line_id, quantity in units.items()]
    ledger_of(found).plan_refund(sum(int(item["amount"]) for item in lines_out))  # refused
    amount, numbers, to_credit = 0, [], dict(units)
    for credited in await _credited_not_refunded(session, order, found):
        take = min(to_credit.get(credited.order_line_id, 0), credited.quantity)
        if take > 0:
            amount += credited.gross * take // credited.quantity
            numbers.append(credited.credit_note)
            to_credit[credited.order_line_id] -= take
    notes = await crediting.credit_order_lines(session, order, to_credit, shipping=shipping,
                                               reason=reason, actor=actor)
    amount += sum(note.gross for note in notes)
    numbers += [note.number for note in notes]
    stated: dict[uuid.UUID, int] = {}
    for note in notes:
        for line in note.statement.get("lines", []):
            if line.get("order_line_id"):
                key = uuid.UUID(line["order_line_id"])
                stated[key] = stated.get(key, 0) + int(line.get("quantity", 0))
    for line_id, quantity in to_credit.items():
        missing = quantity - stated.get(line_id, 0)
        if missing > 0:
            amount += by_id[line_id].total * missing // by_id[line_id].quantity
    if shipping and not notes:
        amount += order.total - sum(line.total for line in order_lines)
    return amount, lines_out, ", ".join(dict.fromkeys(numbers)) or None


async def _credited_not_refunded(session: AsyncSession, order: Order,
                                 found: Sequence[Entry]) -> list[crediting.CreditedUnits]:
    """What credit notes credited that no refund (by lines, not failed) gave back yet, oldest
    credit note first."""
    refunded = _refunded_units(found)
    left: list[crediting.CreditedUnits] = []
    for credited in await crediting.credited_units(session, order.id):
        given_back = min(refunded.get(credited.order_line_id, 0), credited.quantity)
        refunded[credited.order_line_id] = refunded.get(credited.order_line_id, 0) - given_back
        if credited.quantity > given_back:
            units = credited.quantity - given_back
            left.append(crediting.CreditedUnits(
                credited.order_line_id, credited.credit_note, units,
                credited.gross * units // credited.quantity))
    return left
