"""Fulfillments made from the order's allocations: the work of each location, made when
a queue is read (in one statement per page) or when a step needs it, with its pick list kept
in step with the allocations until picking starts."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    Integer,
    Row,
    Select,
    Table,
    Update,
    bindparam,
    exists,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.db.base import new_id, utcnow
from comptoir.db.bulk import insert_rows
from comptoir.fulfillment import pick_list, states
from comptoir.fulfillment.models import Fulfillment, FulfillmentLine
from comptoir.orders import lifecycle
from comptoir.orders.models import Order, OrderAllocation, OrderLine

# --- creation ---------------------------------------------------------------------------------

_FULFILLMENTS: Table = Fulfillment.__table__  # type: ignore[assignment]
_FULFILLMENT_LINES: Table = FulfillmentLine.__table__  # type: ignore[assignment]

# Orders whose allocations are work to do (held orders wait; cancelled ones hold nothing).
_PENDING = (lifecycle.Status.CONFIRMED.value, lifecycle.Status.IN_FULFILLMENT.value)

# Names the fulfillments a read of the queue makes: see ``_made_id``.
_MADE_BY_QUEUE = uuid.UUID("3f0b6a52-7c1e-4d8e-9a47-61c2d0e4b9f3")


def _probed(condition: Select[Any]) -> Exists:
    """EXISTS checked row by row: one index probe for each row the query reads.

    OFFSET 0 keeps PostgreSQL from planning it as a join, which generic plans of prepared
    statements and statistics a step behind (a queue filling up) make a scan of the whole
    other table, or a rescan of it per row: seconds instead of a fraction of a millisecond.
    """
    return exists(condition.offset(literal_column("0")))


def _made_id(order_id: uuid.UUID, location: str) -> uuid.UUID:
    """The id of the fulfillment a queue read makes for an order at a location.

    Derived from both rather than drawn: whichever page is read first, and however many
    reads race to make it, it is the same row, so the queue's order among orders made at the
    same moment (by id) and the cursors are those of a queue where all work was made at once.
    """
    return uuid.uuid5(_MADE_BY_QUEUE, f"{order_id.hex}/{location}")


_UnbuiltRow = Row[tuple[uuid.UUID, str, dt.datetime, str, str]]


@dataclass(frozen=True, slots=True)
class _Unbuilt:
    """Which work not made yet to read: at one location or every one, of one order, at one
    moment (``at``), after a moment or up to one, the oldest ``limit`` pieces."""

    location: str | None = None
    order_id: uuid.UUID | None = None
    at: dt.datetime | None = None
    after: dt.datetime | None = None
    upto: dt.datetime | None = None
    limit: int | None = None

    def params(self) -> dict[str, Any]:
        return {name: value for name in ("location", "order_id", "at", "after", "upto", "limit")
                if (value := getattr(self, name)) is not None}


@lru_cache(maxsize=64)
def _unbuilt_statement(shape: frozenset[str]) -> Select[tuple[uuid.UUID, str, dt.datetime,
                                                              str, str]]:
    """The query of ``_unbuilt`` for the parameters in ``shape``: built once per shape, so a
    read does not pay for building and hashing the expression again."""
    allocation = OrderAllocation
    conditions: list[ColumnElement[bool]] = []
    for name, column, compare in (
        ("location", allocation.location, "=="), ("order_id", allocation.order_id, "=="),
        ("at", allocation.created_at, "=="), ("after", allocation.created_at, ">"),
        ("upto", allocation.created_at, "<="),
    ):
        if name in shape:
            value = bindparam(name, type_=column.type)
            conditions.append(column == value if compare == "==" else
                              column > value if compare == ">" else column <= value)
    work = (
        select(allocation.created_at, allocation.order_id, allocation.location)
        # A literal 0: the predicate of the indexes of allocations still holding units.
        .where(allocation.quantity > literal_column("0"),
               _probed(select(Order.id).where(Order.id == allocation.order_id,
                                              Order.status.in_(_PENDING))),
               ~_probed(select(Fulfillment.id).where(
                   Fulfillment.order_id == allocation.order_id,
                   Fulfillment.location == allocation.location)),
               *conditions)
        .distinct()
        .order_by(allocation.created_at, allocation.order_id, allocation.location)
    )
    if "limit" in shape:
        work = work.limit(bindparam("limit", type_=Integer))
    found = work.subquery("work")
    order = select(Order).where(Order.id == found.c.order_id)  # one probe per row found
    return (
        select(found.c.order_id, found.c.location, found.c.created_at,
               order.with_only_columns(Order.number).scalar_subquery(),
               order.with_only_columns(Order.delivery_method).scalar_subquery())
        .order_by(found.c.created_at, found.c.order_id, found.c.location)
    )


async def _unbuilt(session: AsyncSession, which: _Unbuilt) -> list[_UnbuiltRow]:
    """Work allocated and not made yet, one row per order and location, oldest first:
    (order id, location, order time, order number, delivery method).

    The work is found from the index of allocations still holding units, in its order, so
    the first ``limit`` rows cost the same however many follow; the orders' numbers are
    read for those rows only.
    """
    params = which.params()
    return list(await session.execute(_unbuilt_statement(frozenset(params)), params))


async def _make(session: AsyncSession, work: Iterable[_UnbuiltRow]) -> None:
    """Insert the fulfillments of this work, one row each (made meanwhile: left as it is)."""
    rows = {(order_id, at): {
        "id": _made_id(order_id, at), "order_id": order_id, "order_number": number,
        "location": at, "kind": method, "status": states.Status.NEW.value,
        "created_at": created_at, "updated_at": created_at,
    } for order_id, at, created_at, number, method in work}
    # One statement, whatever the number of rows (db.bulk), and never one value per parameter.
    await insert_rows(session, _FULFILLMENTS, list(rows.values()), skip_conflicts=True)


async def materialise(session: AsyncSession, location: str, order_id: uuid.UUID) -> None:
    """Make the order's fulfillment at ``location`` when it has work there and none yet, and
    close its open work there if the order was cancelled since.

    Fulfillments are made when they are first needed (here, a 3PL hand-off; a location's
    queue makes those of the page it reads, ``make_page``), not at capture: capture is held
    to a statement budget (tests/orders/test_statement_budget.py) it already fills.
    """
    await session.execute(
        _closing(states.OPEN).where(Fulfillment.location == location,
                                    Fulfillment.order_id == order_id))
    await _make(session, await _unbuilt(session, _Unbuilt(location=location, order_id=order_id)))


async def make_page(session: AsyncSession, location: str | None,
                     after: tuple[dt.datetime, uuid.UUID] | None,
                     found: Sequence[Fulfillment], limit: int) -> bool:
    """Make the fulfillments that belong on a page of the queue, and only those; True if any.

    ``found`` is the page as read (``limit`` + 1 rows when another page follows). Work not
    made yet belongs on the page only if it is older than the page's last row. Made: all
    work stamped at the cursor's moment (its id decides on which side of the cursor it
    falls, and no time range can tell), then the oldest ``limit`` + 1 pieces after that
    moment and every other piece stamped at the same moment as the last of them (the id
    orders those, so a later page could not place them behind its cursor). The rest waits
    for the read of its own page.
    """
    work: list[_UnbuiltRow] = []
    if after is not None:
        work += await _unbuilt(session, _Unbuilt(location=location, at=after[0]))
    upto = found[-1].created_at if len(found) > limit else None
    later = await _unbuilt(session, _Unbuilt(location=location, after=after[0] if after else None,
                                             upto=upto, limit=limit + 1))
    if len(later) > limit:
        later += await _unbuilt(session, _Unbuilt(location=location, at=later[-1].created_at))
    await _make(session, [*work, *later])
    return bool(work or later)


def of_cancelled_order() -> Exists:
    return _probed(select(Order.id).where(Order.id == Fulfillment.order_id,
                                          Order.status == lifecycle.Status.CANCELLED.value))


def _closing(statuses: Iterable[str]) -> Update:
    """Work in ``statuses`` of orders cancelled since it was made is over (by staff, or not
    collected): the statement closing it; the caller says where to look."""
    return (
        update(Fulfillment)
        .where(Fulfillment.status.in_(sorted(statuses)), of_cancelled_order())
        .values(status=states.Status.CANCELLED.value, updated_at=utcnow())
        # The page's rows in the session take their new status (RETURNING).
        .execution_options(synchronize_session="fetch")
    )


async def close_cancelled(session: AsyncSession, location: str | None, status: str | None,
                           after: tuple[dt.datetime, uuid.UUID] | None,
                           found: Sequence[Fulfillment], limit: int) -> None:
    """Close the work of cancelled orders where the read looked: from the cursor to the last
    row it found (to the end when no page follows), in the statuses its filter read, which
    skipped that work (``_queue``). Not the whole queue: a read costs the same at any
    backlog, and what it skipped once it does not skip again."""
    statuses = states.OPEN if status in (None, states.Status.CANCELLED) else (
        {status} & states.OPEN)
    if not statuses:
        return
    closing = _closing(statuses)
    if location is not None:
        closing = closing.where(Fulfillment.location == location)
    if after is not None:
        closing = closing.where(queue_after(*after))
    if len(found) > limit:
        last = found[-1]
        closing = closing.where(
            tuple_(Fulfillment.created_at, Fulfillment.id) <= (last.created_at, last.id))
    await session.execute(closing)


async def pick_lists(
    session: AsyncSession, fulfillments: Sequence[Fulfillment]
) -> dict[uuid.UUID, list[FulfillmentLine]]:
    """Their pick lists; while the work has not started, each follows its order's
    allocations first (``pick_list.corrections``). A few queries for any number of them.

    Work whose pick list ends empty (an edit took everything elsewhere) is over: cancelled.
    """
    lines = await lines_of(session, [f.id for f in fulfillments])
    new = [f for f in fulfillments if f.status == states.Status.NEW.value and not any(
        line.shipped_quantity or line.rejected_quantity for line in lines[f.id])]
    if not new:
        return lines
    held, on_lists = await _units_of(session, sorted({f.order_id for f in new}))
    changes: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
    for f in new:
        covered: dict[uuid.UUID, int] = {}
        for other, line_id, quantity in on_lists.get((f.order_id, f.location), []):
            if other != f.id:
                covered[line_id] = covered.get(line_id, 0) + quantity
        listed = {line.line_id: line.quantity for line in lines[f.id]}
        if changed := pick_list.corrections(held.get((f.order_id, f.location), {}), covered,
                                            listed):
            changes[f.id] = changed
    if changes:
        await _correct(session, new, lines, changes)
        lines.update(await lines_of(session, list(changes)))
    for f in new:
        if not any(line.quantity for line in lines[f.id]):
            f.status = states.Status.CANCELLED.value
            f.updated_at = utcnow()
    return lines


# Per order and location: units per order line; (fulfillment, order line, units) listed.
_Held = dict[tuple[uuid.UUID, str], dict[uuid.UUID, int]]
_Listed = dict[tuple[uuid.UUID, str], list[tuple[uuid.UUID, uuid.UUID, int]]]


async def _units_of(session: AsyncSession, orders: Sequence[uuid.UUID]) -> tuple[
    _Held, _Listed
]:
    """What these orders hold at each location (their allocations), and what the open pick
    lists there list: one query each."""
    held: _Held = {}
    for order_id, location, line_id, quantity in await session.execute(
        select(OrderAllocation.order_id, OrderAllocation.location, OrderAllocation.line_id,
               OrderAllocation.quantity).where(OrderAllocation.order_id.in_(orders))
    ):
        units = held.setdefault((order_id, location), {})
        units[line_id] = units.get(line_id, 0) + quantity
    listed: _Listed = {}
    for f_id, order_id, location, line_id, quantity in await session.execute(
        select(Fulfillment.id, Fulfillment.order_id, Fulfillment.location,
               FulfillmentLine.line_id, FulfillmentLine.quantity)
        .join(Fulfillment, Fulfillment.id == FulfillmentLine.fulfillment_id)
        .where(Fulfillment.order_id.in_(orders),
               Fulfillment.status.in_(sorted(states.OPEN)))
    ):
        listed.setdefault((order_id, location), []).append((f_id, line_id, quantity))
    return held, listed


async def _correct(session: AsyncSession, new: Sequence[Fulfillment],
                   lines: Mapping[uuid.UUID, Sequence[FulfillmentLine]],
                   changes: Mapping[uuid.UUID, Mapping[uuid.UUID, int]]) -> None:
    """Write the pick-list corrections: quantities changed, lines added (in one statement)."""
    listed = {(line.fulfillment_id, line.line_id): line
              for f_id in changes for line in lines[f_id]}
    added: list[dict[str, Any]] = []
    for f in new:
        for line_id, quantity in sorted(changes.get(f.id, {}).items(), key=lambda c: str(c[0])):
            line = listed.get((f.id, line_id))
            if line is not None:
                line.quantity = quantity
            else:
                added.append({"id": new_id(), "fulfillment_id": f.id, "line_id": line_id,
                              "quantity": quantity, "shipped_quantity": 0,
                              "rejected_quantity": 0})
    if added:
        ordered = {line_id: (sku, name) for line_id, sku, name in await session.execute(
            select(OrderLine.id, OrderLine.sku, OrderLine.name)
            .where(OrderLine.id.in_(sorted({row["line_id"] for row in added}))))}
        for row in added:
            row["sku"], row["name"] = ordered[row["line_id"]]
        await insert_rows(session, _FULFILLMENT_LINES, added)
    await session.flush()


async def sync_lines(session: AsyncSession, fulfillment: Fulfillment) -> list[FulfillmentLine]:
    """One fulfillment's pick list, brought in line with its order first if not started."""
    return (await pick_lists(session, [fulfillment]))[fulfillment.id]


async def lines_of(session: AsyncSession, fulfillment_ids: Sequence[uuid.UUID]) -> dict[
    uuid.UUID, list[FulfillmentLine]
]:
    """The lines of these fulfillments (each in pick-list order: by SKU), in one query."""
    lines: dict[uuid.UUID, list[FulfillmentLine]] = {f_id: [] for f_id in fulfillment_ids}
    if fulfillment_ids:
        for line in await session.scalars(
            select(FulfillmentLine).where(FulfillmentLine.fulfillment_id.in_(fulfillment_ids))
            .order_by(FulfillmentLine.fulfillment_id, FulfillmentLine.sku, FulfillmentLine.id)
        ):
            lines[line.fulfillment_id].append(line)
    return lines


def queue_after(at: dt.datetime, fulfillment_id: uuid.UUID) -> ColumnElement[bool]:
    """After the row (at, fulfillment_id) in queue order."""
    return tuple_(Fulfillment.created_at, Fulfillment.id) > (at, fulfillment_id)
