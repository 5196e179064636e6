"""Payments' verbs, given a session: money follows the goods, staff capture, void and refund,
and the outcomes providers report.

Nothing here talks to a provider. A transaction is decided and written ``pending`` with an
outbox message (``CALL``) in the caller's transaction; the outbox calls the provider after
commit (payments/calls.py) and ``apply_outcome`` appends what it answered. The order row is
locked by whoever moves its money, so two steps never ask twice for the same goods.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.config import service as config
from comptoir.db.base import new_id, utcnow
from comptoir.db.insert import insert_unless_exists
from comptoir.errors import Conflict, InvalidInput, NotFound
from comptoir.events.service import enqueue, record_event
from comptoir.events.types import EventType
from comptoir.invoicing import service as invoicing
from comptoir.orders import lifecycle
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.reading import find_order
from comptoir.orders.schemas import PaymentIn
from comptoir.payments import rules
from comptoir.payments.models import PaymentOutcome, PaymentTransaction
from comptoir.payments.rules import Kind, Ledger, TxStatus
from comptoir.payments.schemas import (
    CaptureIn,
    PaymentsOut,
    PaymentSummaryOut,
    RefundIn,
    TransactionOut,
    VoidIn,
)

__all__ = [
    "AUTHORIZE",
    "CALL",
    "RECORD",
    "Delivered",
    "Entry",
    "apply_outcome",
    "capture",
    "entries",
    "follow_change",
    "follow_order",
    "payments_of",
    "record_requested",
    "refund",
    "release_unused",
    "void",
]

CALL = "payment.call"  # the outbox calls the provider for a pending transaction
AUTHORIZE = "payment.authorize"  # capture's: authorize the shop's card once the order stands
RECORD = "payment.record"  # capture's: the channel took the money (provider "external")
RELEASE = "payment.release"  # an authorization the shop made for an order refused: voided

# The refusals after which no order will ever stand for the shop's authorization (out of
# stock, nowhere to serve it). A 422 is not one: the shop corrects the order and sends it
# again with the same authorization.
UNSERVED = frozenset({"out_of_stock", "not_routable"})

# Units of each order line that have left so far (fulfillment.reading.delivered_units).
Delivered = Callable[[AsyncSession, uuid.UUID], Awaitable[Mapping[uuid.UUID, int]]]

_ALL_LEFT = frozenset({lifecycle.Status.SHIPPED.value, lifecycle.Status.COMPLETED.value})
# States before any work started: no goods can have left (in fulfillment or ready for
# pickup, one of several parcels may have).
_NOTHING_LEFT = frozenset({lifecycle.Status.CONFIRMED.value,
                           lifecycle.Status.AWAITING_CAPACITY.value})
_OUTCOME_EVENT = {Kind.AUTHORIZATION: EventType.PAYMENT_AUTHORIZED,
                  Kind.CAPTURE: EventType.PAYMENT_CAPTURED, Kind.VOID: EventType.PAYMENT_VOIDED,
                  Kind.REFUND: EventType.PAYMENT_REFUNDED}

_INSERT_OUTCOME = insert_unless_exists(
    PaymentOutcome.__table__, ("transaction_id",), "id")  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Entry:
    """A transaction and its outcome, if it has one yet."""

    tx: PaymentTransaction
    outcome: PaymentOutcome | None

    @property
    def status(self) -> TxStatus:
        return TxStatus(self.outcome.status) if self.outcome else TxStatus.PENDING

    def rule(self) -> rules.Tx:
        return rules.Tx(id=self.tx.id, kind=Kind(self.tx.kind), amount=self.tx.amount,
                        status=self.status, parent_id=self.tx.parent_id)


async def entries(session: AsyncSession, order_id: uuid.UUID) -> list[Entry]:
    """The order's transactions with their outcomes, oldest first."""
    rows = (await session.execute(
        select(PaymentTransaction, PaymentOutcome)
        .outerjoin(PaymentOutcome, PaymentOutcome.transaction_id == PaymentTransaction.id)
        .where(PaymentTransaction.order_id == order_id)
        .order_by(PaymentTransaction.created_at, PaymentTransaction.id))).all()
    return [Entry(tx, outcome) for tx, outcome in rows]


def ledger_of(found: Sequence[Entry]) -> Ledger:
    return Ledger.of(entry.rule() for entry in found)


async def _request(
    session: AsyncSession, order: Order, kind: Kind, amount: int, *, provider: str,
    parent: uuid.UUID | None, trigger: str, actor: str, reason: str | None = None,
    lines: list[dict[str, Any]] | None = None, credit_note: str | None = None,
) -> PaymentTransaction:
    """A pending transaction, asked of its provider by the outbox once this commits."""
    tx = PaymentTransaction(
        id=new_id(), order_id=order.id, order_number=order.number, kind=kind.value,
        provider=provider, parent_id=parent, amount=amount, currency=order.currency,
        source=None, reason=reason, lines=lines, credit_note_number=credit_note,
        trigger=trigger, actor=actor, created_at=utcnow())
    session.add(tx)
    await enqueue(session, CALL, {"transaction_id": str(tx.id), "order_number": order.number})
    await _event(session, EventType.PAYMENT_REQUESTED, tx, actor=actor)
    return tx


async def _event(session: AsyncSession, type: EventType, tx: PaymentTransaction, *,
                 actor: str, outcome: PaymentOutcome | None = None) -> None:
    await record_event(session, topic="order", type=type, subject=tx.order_number, actor=actor,
                       data={"transaction_id": str(tx.id), "kind": tx.kind,
                             "provider": tx.provider, "amount": tx.amount,
                             "currency": tx.currency, "trigger": tx.trigger,
                             "reference": outcome.reference if outcome else None,
                             "failure_code": outcome.failure_code if outcome else None,
                             "reason": tx.reason, "credit_note": tx.credit_note_number})


async def record_requested(session: AsyncSession, tx: PaymentTransaction) -> None:
    """The timeline's ``payment.requested`` for a transaction written outside ``_request``
    (the authorization a capture asked for)."""
    await _event(session, EventType.PAYMENT_REQUESTED, tx, actor=tx.actor)


async def release_unused(session: AsyncSession, code: str, payment: PaymentIn | None,
                         channel: str | None) -> bool:
    """After a capture refused with ``code``: an authorization the shop made itself for that
    order (``payment.reference``) is voided through the outbox, so no money stays held
    without an order. A card token was never authorized: nothing to do. The session is the
    refused capture's, rolled back; this commits."""
    if (code not in UNSERVED or payment is None or not payment.reference
            or payment.provider == "external"):
        return False
    await enqueue(session, RELEASE, {
        "provider": payment.provider, "reference": payment.reference,
        "amount": payment.amount, "currency": (payment.currency or "").upper(),
        "channel": channel})
    await session.commit()
    return True


# --- money follows the goods -------------------------------------------------------------------


async def follow_order(session: AsyncSession, order: Order,
                       delivered: Callable[[], Awaitable[Mapping[uuid.UUID, int]]] | None,
                       *, actor: str, trigger: str) -> None:
    """Capture, void or refund what the order's state now calls for (the order row locked
    by the caller): the worth of the goods that left is captured (all of it at once when the
    channel captures at capture), what no goods will need any more is voided, and money
    captured for goods since cancelled is refunded. Nothing while the order is on hold, and
    nothing for an order paid outside Comptoir. ``delivered()`` reads the units of each
    line that have left so far, only when their worth is needed; None: no goods left since
    the last time (a cancellation), so nothing new is captured for them."""
    if order.status == lifecycle.Status.ON_HOLD.value:
        return
    found = await entries(session, order.id)
    if not found:
        return
    ledger = ledger_of(found)
    channel = await config.get_channel(order.channel)
    cancelled = order.status == lifecycle.Status.CANCELLED.value
    everything_left = order.status in _ALL_LEFT
    if channel is not None and channel.capture_policy == "at_capture" and not cancelled:
        target = order.total
    elif everything_left or cancelled:
        target = order.total
    elif delivered is None or order.status in _NOTHING_LEFT:
        # Nothing left since the last time, or nothing left at all: no new reads.
        target = min(ledger.capture_asked, order.total)
    else:
        target = await _goods_worth(session, order, await delivered())
    due = target - ledger.capture_asked
    provider = {e.tx.id: e.tx.provider for e in found}
    requested = False
    if due > 0 and ledger.capturable > 0:
        requested = True
        for auth, amount in ledger.plan_capture(min(due, ledger.capturable)):
            await _request(session, order, Kind.CAPTURE, amount, provider=provider[auth.id],
                           parent=auth.id, trigger=trigger, actor=actor)
    # More was paid than the order now costs (units cancelled after they were paid): the
    # difference goes back. Money taken ahead of the goods (a manager's capture) stays.
    excess = ledger.capture_asked - order.total
    if due <= 0 and excess > 0 and ledger.refundable > 0:
        requested = True
        for cap, amount in ledger.plan_refund(min(excess, ledger.refundable)):
            await _request(session, order, Kind.REFUND, amount, provider=provider[cap.id],
                           parent=cap.id, trigger=trigger, actor=actor,
                           reason="cancelled" if cancelled else "lines cancelled")
    if requested:
        ledger = ledger_of(await entries(session, order.id))
    if cancelled or everything_left or ledger.capture_asked >= order.total:
        for auth in ledger.authorizations:
            # After its captures are settled (their outcome follows the order again).
            if ledger.open_on(auth) > 0 and not ledger.capturing(auth.id):
                await _request(session, order, Kind.VOID, ledger.open_on(auth),
                               provider=provider[auth.id], parent=auth.id, trigger=trigger,
                               actor=actor)


async def _goods_worth(session: AsyncSession, order: Order,
                       left: Mapping[uuid.UUID, int]) -> int:
    lines = list(await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    return rules.goods_value(
        [rules.LineValue(line.total, line.quantity, left.get(line.id, 0)) for line in lines],
        order.total - sum(line.total for line in lines), order_total=order.total,
        everything_left=False)


async def follow_change(session: AsyncSession, number: str, *, actor: str,
                        trigger: str) -> None:
    """After order ``number`` changed with no goods leaving (units cancelled, a hold
    released, a review decided; its row locked in this transaction): what cancelled units
    held is released, what they were paid refunded, and a channel that charges at capture
    charges an order released from hold."""
    order = await session.scalar(select(Order).where(Order.number == number))
    if order is not None:
        await follow_order(session, order, None, actor=actor, trigger=trigger)


# --- outcomes -----------------------------------------------------------------------------------


async def apply_outcome(
    session: AsyncSession, tx: PaymentTransaction, *, status: str, reference: str | None,
    failure_code: str | None, message: str | None, via: str, delivered: Delivered,
) -> bool:
    """Append the transaction's outcome, once: False when it had one already (a repeated
    answer, a webhook replayed). A succeeded authorization or capture lets the money follow
    the goods again."""
    order = await session.scalar(select(Order).where(Order.id == tx.order_id).with_for_update()
                                 .execution_options(populate_existing=True))
    assert order is not None
    outcome_id = await session.scalar(_INSERT_OUTCOME, {
        "id": new_id(), "transaction_id": tx.id, "order_id": tx.order_id, "status": status,
        "reference": (reference or "")[:200] or None, "failure_code": failure_code,
        "message": (message or "")[:500] or None, "via": via, "at": utcnow()})
    if outcome_id is None:
        return False
    outcome = await session.get(PaymentOutcome, outcome_id)
    succeeded = status == TxStatus.SUCCEEDED.value
    await _event(session, _OUTCOME_EVENT[Kind(tx.kind)] if succeeded
                 else EventType.PAYMENT_FAILED, tx, actor=f"provider:{tx.provider}",
                 outcome=outcome)
    # An authorization lets the money follow goods that left while it was pending; a
    # capture lets what its authorization has left be released. A failure moves nothing
    # more by itself (asking again at once would ask again for ever): a manager decides.
    if succeeded and tx.kind in (Kind.AUTHORIZATION.value, Kind.CAPTURE.value):
        await follow_order(session, order, partial(delivered, session, order.id),
                           actor=f"provider:{tx.provider}", trigger=tx.kind)
    return True


# --- staff actions ------------------------------------------------------------------------------


async def _locked(session: AsyncSession, number: str, principal: Principal) -> tuple[
    Order, list[Entry]
]:
    order = await find_order(session, number, principal, for_update=True)
    return order, await entries(session, order.id)


def _named(found: Sequence[Entry], tx_id: uuid.UUID, number: str) -> Entry:
    entry = next((e for e in found if e.tx.id == tx_id), None)
    if entry is None:
        raise NotFound(f"Order {number} has no payment transaction {tx_id}.",
                       code="transaction_not_found")
    return entry


def _check_currency(order: Order, currency: str | None) -> None:
    if currency is not None and currency.upper() != order.currency:
        raise InvalidInput(f"Order {order.number} is in {order.currency}, not {currency}.",
                           code="currency_mismatch", currency=order.currency)


async def capture(session: AsyncSession, number: str, tx_id: uuid.UUID, data: CaptureIn, *,
                  principal: Principal) -> PaymentsOut:
    """A manager captures on an authorization: the amount given, or all it has left."""
    order, found = await _locked(session, number, principal)
    _check_currency(order, data.currency)
    entry, ledger = _named(found, tx_id, number), ledger_of(found)
    if entry.tx.kind != Kind.AUTHORIZATION.value:
        raise InvalidInput("Captures are made on an authorization; this transaction is not one.",
                           code="not_an_authorization")
    amount = data.amount if data.amount is not None else max(ledger.open_on(entry.rule()), 1)
    for auth, take in ledger.plan_capture(amount, entry.tx.id):
        await _request(session, order, Kind.CAPTURE, take, provider=entry.tx.provider,
                       parent=auth.id, trigger="staff", actor=principal.actor,
                       reason=data.reason)
    return await payments_of(session, order)


async def void(session: AsyncSession, number: str, tx_id: uuid.UUID, data: VoidIn, *,
               principal: Principal) -> PaymentsOut:
    """A manager releases what is left of an authorization."""
    order, found = await _locked(session, number, principal)
    entry = _named(found, tx_id, number)
    auth, left = ledger_of(found).plan_void(entry.tx.id)
    await _request(session, order, Kind.VOID, left, provider=entry.tx.provider,
                   parent=auth.id, trigger="staff", actor=principal.actor, reason=data.reason)
    return await payments_of(session, order)


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
    order, found = await _locked(session, number, principal)
    _check_currency(order, data.currency)
    if tx_id is not None:
        _named(found, tx_id, number)
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
        notes = await invoicing.credit_order_amount(session, order, amount, reason=reason,
                                                    actor=principal.actor)
        credit_note = ", ".join(note.number for note in notes) or None
    assert amount is not None
    provider = {e.tx.id: e.tx.provider for e in found}
    for cap, take in ledger.plan_refund(amount, tx_id):
        await _request(session, order, Kind.REFUND, take, provider=provider[cap.id],
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
    notes = await invoicing.credit_order_lines(session, order, to_credit, shipping=shipping,
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
                                 found: Sequence[Entry]) -> list[invoicing.CreditedUnits]:
    """What credit notes credited that no refund (by lines, not failed) gave back yet, oldest
    credit note first."""
    refunded = _refunded_units(found)
    left: list[invoicing.CreditedUnits] = []
    for credited in await invoicing.credited_units(session, order.id):
        given_back = min(refunded.get(credited.order_line_id, 0), credited.quantity)
        refunded[credited.order_line_id] = refunded.get(credited.order_line_id, 0) - given_back
        if credited.quantity > given_back:
            units = credited.quantity - given_back
            left.append(invoicing.CreditedUnits(
                credited.order_line_id, credited.credit_note, units,
                credited.gross * units // credited.quantity))
    return left


# --- reading ------------------------------------------------------------------------------------


def _transaction_out(entry: Entry, ledger: Ledger) -> TransactionOut:
    tx, outcome, rule = entry.tx, entry.outcome, entry.rule()
    return TransactionOut(
        id=tx.id, kind=tx.kind, status=entry.status.value, provider=tx.provider,
        amount=tx.amount, currency=tx.currency, parent_id=tx.parent_id,
        reference=outcome.reference if outcome else None,
        failure_code=outcome.failure_code if outcome else None,
        message=outcome.message if outcome else None, reason=tx.reason, trigger=tx.trigger,
        credit_note=tx.credit_note_number, lines=tx.lines, actor=tx.actor,
        created_at=tx.created_at, settled_at=outcome.at if outcome else None,
        capturable=ledger.open_on(rule), refundable=ledger.refundable_on(rule))


def summary(order: Order, ledger: Ledger, pending: int) -> PaymentSummaryOut:
    return PaymentSummaryOut(
        status=ledger.status(order.total).value, currency=order.currency, total=order.total,
        authorized=ledger.authorized, captured=ledger.captured, refunded=ledger.refunded,
        voided=ledger.voided, balance=ledger.balance, outstanding=order.total - ledger.balance,
        capturable=ledger.capturable, refundable=ledger.refundable, pending=pending)


async def payments_of(session: AsyncSession, order: Order) -> PaymentsOut:
    found = await entries(session, order.id)
    ledger = ledger_of(found)
    return PaymentsOut(
        order_number=order.number,
        summary=summary(order, ledger, sum(1 for e in found if e.outcome is None)),
        transactions=[_transaction_out(entry, ledger) for entry in found])


async def order_payments(session: AsyncSession, number: str, principal: Principal) -> PaymentsOut:
    return await payments_of(session, await find_order(session, number, principal))

