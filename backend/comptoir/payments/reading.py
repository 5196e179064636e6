"""Reading payments, read only: an order's transactions and balance as the API shows them,
and for reports the ledgers of many orders at once, the transactions that succeeded in a
period, and the calls still waiting for their provider."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.orders.models import Order
from comptoir.orders.reading import find_order
from comptoir.payments.models import PaymentOutcome, PaymentTransaction
from comptoir.payments.rules import Kind, Ledger, TxStatus
from comptoir.payments.schemas import PaymentsOut, PaymentSummaryOut, TransactionOut
from comptoir.payments.transactions import Entry, entries, ledger_of

__all__ = ["Pending", "Settled", "ledgers_of", "order_payments", "payments_of",
           "pending_before", "settled_between", "summary"]


@dataclass(frozen=True, slots=True)
class Settled:
    """A transaction that succeeded, and when."""

    transaction_id: uuid.UUID
    order_id: uuid.UUID
    order_number: str
    kind: Kind
    amount: int
    currency: str
    credit_note: str | None  # a refund's credit note(s), as the refund names them
    trigger: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Pending:
    """A transaction its provider has not answered yet."""

    transaction_id: uuid.UUID
    order_id: uuid.UUID
    order_number: str
    kind: Kind
    provider: str
    amount: int
    currency: str
    created_at: dt.datetime


async def ledgers_of(session: AsyncSession,
                     order_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Ledger]:
    """Each order's ledger (orders with no transaction at all are absent)."""
    if not order_ids:
        return {}
    found: dict[uuid.UUID, list[Entry]] = {}
    for tx, outcome in await session.execute(
            select(PaymentTransaction, PaymentOutcome)
            .outerjoin(PaymentOutcome, PaymentOutcome.transaction_id == PaymentTransaction.id)
            .where(PaymentTransaction.order_id.in_(list(order_ids)))
            .order_by(PaymentTransaction.created_at, PaymentTransaction.id)):
        found.setdefault(tx.order_id, []).append(Entry(tx, outcome))
    return {order_id: ledger_of(rows) for order_id, rows in found.items()}


async def settled_between(session: AsyncSession, start: dt.datetime, end: dt.datetime,
                          kinds: Collection[Kind]) -> list[Settled]:
    """Transactions of ``kinds`` that succeeded from ``start`` (included) to ``end``
    (excluded), by the time their outcome was written."""
    rows = await session.execute(
        select(PaymentTransaction, PaymentOutcome.at)
        .join(PaymentOutcome, PaymentOutcome.transaction_id == PaymentTransaction.id)
        .where(PaymentOutcome.status == TxStatus.SUCCEEDED.value,
               PaymentOutcome.at >= start, PaymentOutcome.at < end,
               PaymentTransaction.kind.in_([kind.value for kind in kinds]))
        .order_by(PaymentOutcome.at, PaymentTransaction.id))
    return [Settled(transaction_id=tx.id, order_id=tx.order_id, order_number=tx.order_number,
                    kind=Kind(tx.kind), amount=int(tx.amount), currency=tx.currency,
                    credit_note=tx.credit_note_number, trigger=tx.trigger, at=at)
            for tx, at in rows]


async def pending_before(session: AsyncSession, before: dt.datetime) -> list[Pending]:
    """Transactions written before ``before`` that still have no outcome, oldest first."""
    rows = await session.scalars(
        select(PaymentTransaction)
        .outerjoin(PaymentOutcome, PaymentOutcome.transaction_id == PaymentTransaction.id)
        .where(PaymentOutcome.id.is_(None), PaymentTransaction.created_at < before)
        .order_by(PaymentTransaction.created_at, PaymentTransaction.id))
    return [Pending(transaction_id=tx.id, order_id=tx.order_id, order_number=tx.order_number,
                    kind=Kind(tx.kind), provider=tx.provider, amount=int(tx.amount),
                    currency=tx.currency, created_at=tx.created_at) for tx in rows]


# --- an order's payments, as the API shows them ------------------------------------------------


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
    """The order's money at a glance, against what it costs now."""
    return PaymentSummaryOut(
        status=ledger.status(order.total).value, currency=order.currency, total=order.total,
        authorized=ledger.authorized, captured=ledger.captured, refunded=ledger.refunded,
        voided=ledger.voided, balance=ledger.balance, outstanding=order.total - ledger.balance,
        capturable=ledger.capturable, refundable=ledger.refundable, pending=pending)


async def payments_of(session: AsyncSession, order: Order) -> PaymentsOut:
    """The order's transactions, oldest first, with what each can still do, and its summary."""
    found = await entries(session, order.id)
    ledger = ledger_of(found)
    return PaymentsOut(
        order_number=order.number,
        summary=summary(order, ledger, sum(1 for e in found if e.outcome is None)),
        transactions=[_transaction_out(entry, ledger) for entry in found])


async def order_payments(session: AsyncSession, number: str, principal: Principal) -> PaymentsOut:
    return await payments_of(session, await find_order(session, number, principal))
