"""The plain capture writer: a draft's rows, one table after the other, in the session's
transaction (SQLite, one writer at a time; on PostgreSQL, the reference the batched writer
is compared with in tests/orders/test_capture_writers.py)."""

from __future__ import annotations

from typing import cast

import msgspec
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.customers import service as customers
from comptoir.db.insert import insert_unless_exists
from comptoir.events.models import Event, OutboxMessage
from comptoir.idempotency import CLAIM_KEY
from comptoir.inventory import service as inventory
from comptoir.orders import numbering
from comptoir.orders.draft import OrderDraft
from comptoir.orders.models import Order, OrderAllocation, OrderLine
from comptoir.orders.rows import Written, row
from comptoir.orders.schemas import CustomerOut
from comptoir.orders.writing import Refusal, Refused
from comptoir.routing import service as routing

__all__ = ["SqlWriter"]

_LINES = cast(Table, OrderLine.__table__)
_ALLOCATIONS = cast(Table, OrderAllocation.__table__)
_EVENTS = cast(Table, Event.__table__)
_OUTBOX = cast(Table, OutboxMessage.__table__)
_INSERT_ORDER = insert_unless_exists(cast(Table, Order.__table__), ("channel", "external_ref"),
                                     "id")


class SqlWriter:
    """Writes in the session's transaction; the caller commits (or rolls back a refusal)."""

    async def prepare(self, session: AsyncSession, year: int) -> AsyncEngine | None:
        if isinstance(session.bind, AsyncEngine):  # PostgreSQL's sequence of the year
            await numbering.prepare_year(session.bind, year)
        return None

    async def write(self, session: AsyncSession, draft: OrderDraft) -> Written | Refused:
        # The order's share of daily capacity first, counted and checked in one write.
        if draft.accepted and await routing.count_orders(session, draft.claims):
            return Refused(Refusal.AT_CAPACITY)
        customer = None
        if draft.customer is not None:
            found = await customers.match_or_create(
                session, email=draft.customer.email, name=draft.customer.name,
                phone=draft.customer.phone)
            customer = CustomerOut(id=found.id, email=draft.customer.email_lower,
                                   name=found.name, phone=found.phone)
        serial = await numbering.next_serial(session, draft.numbering.year)
        written = Written(draft.numbering.number(serial), customer)
        order = {**row(draft.order), "number": written.number, "search": draft.search(written)}
        if customer is not None:
            order.update(customer_id=customer.id, customer_name=customer.name,
                         customer_phone=customer.phone)
        # A repeated external reference gets its order back even when the stock is gone:
        # refuse only once the order insert has shown it is new.
        if (await session.execute(_INSERT_ORDER, order)).first() is None:
            return Refused(Refusal.REPEATED_EXTERNAL_REF)
        if not draft.accepted:
            return Refused(Refusal.NOT_ROUTED)
        await session.execute(_LINES.insert(), [row(line) for line in draft.lines])
        await session.execute(_ALLOCATIONS.insert(), [row(a) for a in draft.allocations])
        await routing.record_decision(session, written.number, draft.decision,
                                      now=draft.order.created_at, counted=True)
        # Last, the levels: the hottest rows are locked for the shortest time.
        if len(await inventory.reserve_all(session, draft.reservations)) < len(
                draft.reservations):
            return Refused(Refusal.SHORT)
        if draft.key is not None and await session.scalar(CLAIM_KEY, {
            **row(draft.key), "status_code": 201, "order_id": draft.order.id,
            "response": msgspec.json.encode(draft.answer_for(written)).decode(),
            "created_at": draft.order.created_at,
        }) is None:
            return Refused(Refusal.IDEMPOTENCY_KEY_TAKEN)
        if draft.outbox:
            await session.execute(_OUTBOX.insert(), draft.outbox_rows(written.number))
        await session.execute(_EVENTS.insert(), draft.event_rows(written.number))
        return written
