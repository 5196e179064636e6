"""Reading payments for reports, read only: the ledgers of many orders at once, the
transactions that succeeded in a period, and the calls still waiting for their provider."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.payments.models import PaymentOutcome, PaymentTransaction
from comptoir.payments.rules import Kind, Ledger, Tx, TxStatus

__all__ = ["Pending", "Settled", "ledgers_of", "pending_before", "settled_between"]


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
    found: dict[uuid.UUID, list[Tx]] = {}
    for tx, status in await session.execute(
            select(PaymentTransaction, PaymentOutcome.status)
            .outerjoin(PaymentOutcome, PaymentOutcome.transaction_id == PaymentTransaction.id)
            .where(PaymentTransaction.order_id.in_(list(order_ids)))
            .order_by(PaymentTransaction.created_at, PaymentTransaction.id)):
        found.setdefault(tx.order_id, []).append(Tx(
            id=tx.id, kind=Kind(tx.kind), amount=int(tx.amount),
            status=TxStatus(status) if status else TxStatus.PENDING, parent_id=tx.parent_id))
    return {order_id: Ledger.of(txs) for order_id, txs in found.items()}


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
