"""Fulfillment rules: work per location from the allocations; pick, pack, ship, pickup, reject.

Every action locks the order row, then the fulfillment, changes stock through the inventory
service, lets the order's status follow its fulfillments (through the order lifecycle), and
appends one order event, all in the caller's transaction.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.auth.schemas import SYSTEM, Principal
from comptoir.catalog import service as catalog
from comptoir.config import service as config
from comptoir.config.schemas import CarrierOut
from comptoir.db.base import new_id, utcnow
from comptoir.db.bulk import insert_rows
from comptoir.db.engine import is_postgres
from comptoir.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from comptoir.events.dispatcher import Delivery
from comptoir.events.service import enqueue, record_event
from comptoir.fulfillment import counter, pick_list, states
from comptoir.fulfillment.models import Fulfillment, FulfillmentLine, Shipment
from comptoir.fulfillment.schemas import (
    FulfillmentLineOut,
    FulfillmentOut,
    FulfillmentPage,
    HandoverIn,
    PickupCodeCheckOut,
    RejectIn,
    ShipIn,
    ShipmentOut,
    UnitsIn,
)
from comptoir.inventory import service as inventory
from comptoir.orders import actions as order_actions
from comptoir.orders import lifecycle
from comptoir.orders import service as orders
from comptoir.orders import verbs as order_verbs
from comptoir.orders.handoff import HAND_OFF, hand_off
from comptoir.orders.models import Order, OrderAllocation, OrderLine
from comptoir.orders.schemas import CancelIn, HoldIn

__all__ = [
    "HAND_OFF",
    "NOTIFICATION_HANDLERS",
    "SYSTEM",
    "Sweep",
    "carrier_for",
    "counter_check_in",
    "customer_arrived",
    "get_fulfillment",
    "hand_off",
    "handover",
    "list_fulfillments",
    "materialise",
    "pack",
    "pick",
    "ready_for_pickup",
    "reject",
    "ship",
    "sweep_once",
    "sweep_turn",
    "sweep_uncollected",
]

log = logging.getLogger("comptoir.fulfillment")

MAX_PAGE = 100
MANAGER_ROLES = ("admin", "manager")


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
    queue makes those of the page it reads, ``_make_page``), not at capture: capture is held
    to a statement budget (tests/orders/test_statement_budget.py) it already fills.
    """
    await session.execute(
        _closing(states.OPEN).where(Fulfillment.location == location,
                                    Fulfillment.order_id == order_id))
    await _make(session, await _unbuilt(session, _Unbuilt(location=location, order_id=order_id)))


async def _make_page(session: AsyncSession, location: str | None,
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


def _of_cancelled_order() -> Exists:
    return _probed(select(Order.id).where(Order.id == Fulfillment.order_id,
                                          Order.status == lifecycle.Status.CANCELLED.value))


def _closing(statuses: Iterable[str]) -> Update:
    """Work in ``statuses`` of orders cancelled since it was made is over (by staff, or not
    collected): the statement closing it; the caller says where to look."""
    return (
        update(Fulfillment)
        .where(Fulfillment.status.in_(sorted(statuses)), _of_cancelled_order())
        .values(status=states.Status.CANCELLED.value, updated_at=utcnow())
        # The page's rows in the session take their new status (RETURNING).
        .execution_options(synchronize_session="fetch")
    )


async def _close_cancelled(session: AsyncSession, location: str | None, status: str | None,
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
        closing = closing.where(_after(*after))
    if len(found) > limit:
        last = found[-1]
        closing = closing.where(
            tuple_(Fulfillment.created_at, Fulfillment.id) <= (last.created_at, last.id))
    await session.execute(closing)


async def _pick_lists(
    session: AsyncSession, fulfillments: Sequence[Fulfillment]
) -> dict[uuid.UUID, list[FulfillmentLine]]:
    """Their pick lists; while the work has not started, each follows its order's
    allocations first (``pick_list.corrections``). A few queries for any number of them.

    Work whose pick list ends empty (an edit took everything elsewhere) is over: cancelled.
    """
    lines = await _lines(session, [f.id for f in fulfillments])
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
        lines.update(await _lines(session, list(changes)))
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


async def _sync_lines(session: AsyncSession, fulfillment: Fulfillment) -> list[FulfillmentLine]:
    """One fulfillment's pick list, brought in line with its order first if not started."""
    return (await _pick_lists(session, [fulfillment]))[fulfillment.id]


# --- reading ----------------------------------------------------------------------------------


def _may_work_at(principal: Principal, location: str) -> bool:
    return principal.role in MANAGER_ROLES or (
        principal.role == "associate" and principal.location == location)


def _not_found(fulfillment_id: uuid.UUID) -> NotFound:
    return NotFound(f"No fulfillment {fulfillment_id}.", code="fulfillment_not_found")


async def _lines(session: AsyncSession, fulfillment_ids: Sequence[uuid.UUID]) -> dict[
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


async def _render(session: AsyncSession, fulfillment: Fulfillment,
                  lines: Sequence[FulfillmentLine] | None = None) -> FulfillmentOut:
    known = None if lines is None else {fulfillment.id: list(lines)}
    return (await _render_page(session, [fulfillment], known))[0]


async def _render_page(
    session: AsyncSession, rows: Sequence[Fulfillment],
    known: Mapping[uuid.UUID, list[FulfillmentLine]] | None = None,
) -> list[FulfillmentOut]:
    """Fulfillments with their pick lists (``_pick_lists``: work not started is checked
    against its order), parcels and, for pickups, their orders' totals (the ID check): a few
    queries for the whole page."""
    lines: dict[uuid.UUID, list[FulfillmentLine]] = dict(known or {})
    lines.update(await _pick_lists(session, [row for row in rows if row.id not in lines]))
    variants = await catalog.variants_by_sku(
        session, sorted({line.sku for page in lines.values() for line in page}))
    shipments: dict[uuid.UUID, list[Shipment]] = {}
    if rows:
        for shipment in await session.scalars(
            select(Shipment).where(Shipment.fulfillment_id.in_([row.id for row in rows]))
            .order_by(Shipment.shipped_at, Shipment.id)
        ):
            shipments.setdefault(shipment.fulfillment_id, []).append(shipment)
    id_checks = await _id_checks(session, {row.order_id for row in rows if row.kind == "pickup"})
    return [_out(row, lines.get(row.id, []), variants, shipments.get(row.id, []),
                 id_check_required=id_checks.get(row.order_id, False))
            for row in rows]


async def _id_checks(session: AsyncSession, order_ids: set[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """Per order: does its pickup need an ID check at the counter (its channel's amount)."""
    if not order_ids:
        return {}
    totals = await session.execute(select(Order.id, Order.total, Order.currency, Order.channel)
                                   .where(Order.id.in_(order_ids)))
    return {order_id: await _id_check_required(total, currency, channel)
            for order_id, total, currency, channel in totals}


async def _id_check_required(total: int, currency: str, channel_code: str) -> bool:
    channel = await config.get_channel(channel_code)
    return channel is not None and counter.id_check_required(
        total=total, currency=currency, threshold=channel.id_check_above,
        threshold_currency=channel.currency)


def _pickup_code_check(fulfillment: Fulfillment) -> PickupCodeCheckOut | None:
    """What the store's phones check a code with, while the parcel waits at the counter."""
    if (fulfillment.status != states.Status.READY_FOR_PICKUP.value
            or not fulfillment.pickup_code_digest):
        return None
    digest = counter.PickupCodeDigest.parse(fulfillment.pickup_code_digest)
    return PickupCodeCheckOut(algorithm=counter.ALGORITHM, iterations=digest.iterations,
                              salt=digest.salt_text, hash=digest.hash_text)


def _out(fulfillment: Fulfillment, lines: Sequence[FulfillmentLine],
         variants: Mapping[str, Any], shipments: Sequence[Shipment], *,
         id_check_required: bool) -> FulfillmentOut:
    return FulfillmentOut(
        id=fulfillment.id, order_number=fulfillment.order_number,
        location=fulfillment.location, kind=fulfillment.kind, status=fulfillment.status,
        allowed_actions=states.allowed_actions(fulfillment.status, fulfillment.kind),
        created_at=fulfillment.created_at, ready_at=fulfillment.ready_at,
        hold_until=fulfillment.hold_until, handed_over_at=fulfillment.handed_over_at,
        collected_by=fulfillment.collected_by,
        customer_arrived_at=fulfillment.customer_arrived_at,
        pickup_code_check=_pickup_code_check(fulfillment),
        id_check_required=id_check_required,
        lines=[FulfillmentLineOut(
            sku=line.sku, name=line.name,
            barcode=variants[line.sku].barcode if line.sku in variants else None,
            quantity=line.quantity, shipped_quantity=line.shipped_quantity,
            rejected_quantity=line.rejected_quantity) for line in lines],
        shipments=[ShipmentOut(
            id=s.id, carrier=s.carrier, service=s.service, tracking_number=s.tracking_number,
            tracking_url=s.tracking_url, lines=[UnitsIn(**u) for u in s.lines],
            shipped_at=s.shipped_at) for s in shipments],
    )


async def get_fulfillment(
    session: AsyncSession, fulfillment_id: uuid.UUID, principal: Principal
) -> FulfillmentOut:
    """One fulfillment with its pick list; an associate sees only their location's."""
    fulfillment = await session.get(Fulfillment, fulfillment_id)
    if fulfillment is None or not _may_work_at(principal, fulfillment.location):
        raise _not_found(fulfillment_id)
    return await _render(session, fulfillment)


def _encode_cursor(created_at: dt.datetime, fulfillment_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{fulfillment_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, hex_id = raw.split("|")
        at = dt.datetime.fromisoformat(moment)
        if at.tzinfo is None:
            raise ValueError("naive time")
        return at, uuid.UUID(hex=hex_id)
    except ValueError:
        raise InvalidInput("This cursor is not one Comptoir gave.", code="invalid_cursor") from None


async def list_fulfillments(
    session: AsyncSession, principal: Principal, *, location: str | None = None,
    status: str | None = None, cursor: str | None = None, limit: int = 50,
    handed_over_since: dt.datetime | None = None,
) -> FulfillmentPage:
    """A location's queue, oldest first. Associates see their own location only.

    ``handed_over_since``: instead, what was handed over to customers from that moment on,
    the latest first ("collected today"), keyset-paginated on (handed_over_at, id).
    """
    if principal.role not in MANAGER_ROLES:
        if principal.location is None or location not in (None, principal.location):
            raise Forbidden("You can see the work of your own location only.",
                            code="other_location")
        location = principal.location
    if status is not None and status not in {s.value for s in states.Status}:
        raise InvalidInput(f"Unknown fulfillment status '{status}'.", code="unknown_status",
                           allowed=[s.value for s in states.Status])
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit is 1 to {MAX_PAGE}.", code="invalid_limit")
    if handed_over_since is not None:
        return await _handed_over(session, location, status, handed_over_since, cursor, limit)
    return await _queue_page(session, location, status, cursor, limit)


def _after(at: dt.datetime, fulfillment_id: uuid.UUID) -> ColumnElement[bool]:
    """After the row (at, fulfillment_id) in queue order."""
    return tuple_(Fulfillment.created_at, Fulfillment.id) > (at, fulfillment_id)


def _queue(location: str | None, status: str | None,
           after: tuple[dt.datetime, uuid.UUID] | None) -> Select[tuple[Fulfillment]]:
    """The queue, oldest first; open work of a cancelled order counts as cancelled (it is
    closed as the read passes it, ``_close_cancelled``)."""
    query = select(Fulfillment)
    if location is not None:
        query = query.where(Fulfillment.location == location)
    cancelled = _of_cancelled_order()
    if status in states.OPEN:
        query = query.where(Fulfillment.status == status, ~cancelled)
    elif status == states.Status.CANCELLED:
        query = query.where((Fulfillment.status == status)
                            | (Fulfillment.status.in_(sorted(states.OPEN)) & cancelled))
    elif status is not None:
        query = query.where(Fulfillment.status == status)
    if after is not None:
        query = query.where(_after(*after))
    return query.order_by(Fulfillment.created_at, Fulfillment.id)


async def _queue_page(session: AsyncSession, location: str | None, status: str | None,
                      cursor: str | None, limit: int) -> FulfillmentPage:
    """A page of the queue: the work it shows is made as it is read (``_make_page``), the
    rest of the backlog waits; the same rows, order and cursors as if all were made."""
    after = _decode_cursor(cursor) if cursor is not None else None
    query = _queue(location, status, after).limit(limit + 1)
    found = list(await session.scalars(query))
    if status in (None, states.Status.NEW) and await _make_page(
            session, location, after, found, limit):
        found = list(await session.scalars(query))
    await _close_cancelled(session, location, status, after, found, limit)
    rows = found[:limit]
    items = await _render_page(session, rows)
    return FulfillmentPage(
        items=items, next_cursor=_encode_cursor(rows[-1].created_at, rows[-1].id)
        if len(found) > limit else None)


async def _handed_over(
    session: AsyncSession, location: str | None, status: str | None, since: dt.datetime,
    cursor: str | None, limit: int,
) -> FulfillmentPage:
    """Handed over at or after ``since``, the latest first (index on location,
    handed_over_at, id): a store's "collected today" in one read, however long its history."""
    if since.tzinfo is None:
        raise InvalidInput("handed_over_since needs a time zone, e.g. 2026-11-26T00:00:00Z.",
                           code="invalid_since")
    if status not in (None, states.Status.HANDED_OVER.value):
        raise InvalidInput("handed_over_since lists handed-over work only: leave status out.",
                           code="conflicting_filters")
    query = select(Fulfillment).where(Fulfillment.handed_over_at >= since,
                                      Fulfillment.status == states.Status.HANDED_OVER.value)
    if location is not None:
        query = query.where(Fulfillment.location == location)
    if cursor is not None:
        at, before = _decode_cursor(cursor)
        query = query.where((Fulfillment.handed_over_at < at)
                            | ((Fulfillment.handed_over_at == at) & (Fulfillment.id < before)))
    rows = list(await session.scalars(query.order_by(
        Fulfillment.handed_over_at.desc(), Fulfillment.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    items = await _render_page(session, rows)
    last = rows[-1] if more and rows else None
    return FulfillmentPage(
        items=items,
        next_cursor=_encode_cursor(last.handed_over_at, last.id)
        if last is not None and last.handed_over_at is not None else None)


# --- the work ---------------------------------------------------------------------------------


@dataclass
class _Work:
    """A fulfillment being changed, with its order, both locked."""

    order: Order
    fulfillment: Fulfillment
    lines: list[FulfillmentLine]
    principal: Principal
    data: dict[str, Any] = field(default_factory=dict)


async def _lock(session: AsyncSession, found: Fulfillment) -> tuple[Order, Fulfillment]:
    """Lock the order then the fulfillment (the order actions' lock order), read afresh."""
    order = await session.scalar(select(Order).where(Order.id == found.order_id)
                                 .with_for_update().execution_options(populate_existing=True))
    fulfillment = await session.scalar(
        select(Fulfillment).where(Fulfillment.id == found.id).with_for_update()
        .execution_options(populate_existing=True))
    assert order is not None and fulfillment is not None
    return order, fulfillment


async def _begin(
    session: AsyncSession, fulfillment_id: uuid.UUID, principal: Principal, action: str
) -> _Work:
    """Lock the order then the fulfillment (the order actions' lock order), check the move."""
    found = await session.get(Fulfillment, fulfillment_id)
    if found is None or not _may_work_at(principal, found.location):
        raise _not_found(fulfillment_id)
    order, fulfillment = await _lock(session, found)
    if order.status in (lifecycle.Status.ON_HOLD, lifecycle.Status.CANCELLED):
        raise lifecycle.IllegalTransition(
            f"{order.number} is {order.status.replace('_', ' ')}: its fulfillment cannot "
            f"{action} now.", current_status=fulfillment.status, order_status=order.status,
            action=action, allowed=[])
    states.move(fulfillment.status, fulfillment.kind, action)
    lines = await _sync_lines(session, fulfillment)
    states.move(fulfillment.status, fulfillment.kind, action)  # the sync may have ended it
    return _Work(order, fulfillment, lines, principal)


async def _follow_fulfillments(session: AsyncSession, order: Order) -> None:
    """The order's status follows its fulfillments, through the order lifecycle's moves."""
    await session.flush()
    rows = (await session.execute(select(Fulfillment.kind, Fulfillment.status)
                                  .where(Fulfillment.order_id == order.id))).all()
    target = states.order_target(order.status, [(kind, status) for kind, status in rows])
    order_verbs.follow(order, states.order_moves(order.status, target))


async def _finish(session: AsyncSession, work: _Work, type: str) -> FulfillmentOut:
    order, fulfillment = work.order, work.fulfillment
    previous = order.status
    if order.status != lifecycle.Status.CANCELLED:
        await _follow_fulfillments(session, order)
    fulfillment.updated_at = order_verbs.touch(order)
    await record_event(
        session, topic="order", type=f"fulfillment.{type}", subject=order.number,
        actor=work.principal.actor,
        data={"version": order.version, "fulfillment_id": str(fulfillment.id),
              "locations": [fulfillment.location], "fulfillment_status": fulfillment.status,
              "order_status": order.status,
              **({"from": previous} if previous != order.status else {}), **work.data})
    await session.flush()
    return await _render(session, fulfillment, work.lines)


async def pick(session: AsyncSession, fulfillment_id: uuid.UUID, *,
               principal: Principal) -> FulfillmentOut:
    work = await _begin(session, fulfillment_id, principal, states.Action.PICK)
    work.fulfillment.status = states.Status.PICKING.value
    return await _finish(session, work, "picking")


async def pack(session: AsyncSession, fulfillment_id: uuid.UUID, *,
               principal: Principal) -> FulfillmentOut:
    work = await _begin(session, fulfillment_id, principal, states.Action.PACK)
    work.fulfillment.status = states.Status.PACKED.value
    return await _finish(session, work, "packed")


def _units(items: Iterable[UnitsIn], lines: Sequence[FulfillmentLine], what: str) -> dict[
    uuid.UUID, int
]:
    """Units per fulfillment line, refused when a SKU is not there or has too few left."""
    wanted: dict[uuid.UUID, int] = {}
    for item in items:
        candidates = [line for line in lines if line.sku == item.sku]
        if not candidates:
            raise InvalidInput(f"{item.sku} is not in this fulfillment.", code="unknown_sku",
                               sku=item.sku)
        left = item.quantity
        for line in candidates:  # one SKU normally has one line; spread if not
            take = min(left, line.quantity - wanted.get(line.id, 0))
            if take > 0:
                wanted[line.id] = wanted.get(line.id, 0) + take
                left -= take
        if left:
            raise InvalidInput(
                f"{item.sku}: {item.quantity} units to {what}, but only "
                f"{sum(line.quantity for line in candidates)} are left to send.",
                code="quantity_exceeds_line", sku=item.sku)
    return wanted


def _settled(lines: Sequence[FulfillmentLine]) -> states.Status | None:
    """The final state once nothing is left to send; None while units remain."""
    if any(line.quantity for line in lines):
        return None
    if any(line.shipped_quantity for line in lines):
        return states.Status.SHIPPED
    return states.Status.REJECTED


async def _consume(session: AsyncSession, work: _Work, units: dict[uuid.UUID, int]) -> list[
    dict[str, Any]
]:
    """Units leave the location: allocations shrink and the reservations become sales."""
    sent = []
    for line in sorted(work.lines, key=lambda line: line.sku):
        quantity = units.get(line.id, 0)
        if not quantity:
            continue
        await order_verbs.take_from_allocation(session, work.order.id, line.line_id,
                                               work.fulfillment.location, quantity)
        line.quantity -= quantity
        line.shipped_quantity += quantity
        await inventory.consume_reservation(session, line.sku, work.fulfillment.location,
                                            quantity, work.principal.actor,
                                            reference=work.order.number)
        sent.append({"sku": line.sku, "quantity": quantity})
    return sent


async def carrier_for(code: str) -> CarrierOut:
    """An active carrier of the configuration; refused (422) with the known ones otherwise."""
    carrier = await config.get_carrier(code)
    if carrier is None or not carrier.active:
        known = [c.code for c in await config.list_carriers(active_only=True)]
        raise InvalidInput(f"Unknown carrier '{code.strip()}': add it in the configuration, or "
                           f"use one of {', '.join(known) or 'none yet'}.",
                           code="unknown_carrier", allowed=known)
    return carrier


async def ship(session: AsyncSession, fulfillment_id: uuid.UUID, data: ShipIn, *,
               principal: Principal) -> FulfillmentOut:
    """A parcel leaves: all units left, or the given ones (a partial shipment)."""
    known = await carrier_for(data.carrier)
    work = await _begin(session, fulfillment_id, principal, states.Action.SHIP)
    units = (_units(data.lines, work.lines, "ship") if data.lines
             else {line.id: line.quantity for line in work.lines if line.quantity})
    if not units:
        raise InvalidInput("Nothing left to ship.", code="nothing_to_ship")
    carrier = known.code.strip().lower()
    tracking_number = data.tracking_number.strip()
    sent = await _consume(session, work, units)
    url = states.tracking_url(known.tracking_url_template, tracking_number)
    shipment = Shipment(id=new_id(), fulfillment_id=work.fulfillment.id, carrier=carrier,
                        service=data.service, tracking_number=tracking_number,
                        tracking_url=url, lines=sent, shipped_by=principal.actor,
                        shipped_at=utcnow())
    session.add(shipment)
    work.fulfillment.status = (_settled(work.lines) or states.Status.PARTIALLY_SHIPPED).value
    work.data = {"shipment_id": str(shipment.id), "carrier": carrier, "service": data.service,
                 "tracking_number": tracking_number, "tracking_url": url, "lines": sent}
    return await _finish(session, work, "shipped")


async def ready_for_pickup(session: AsyncSession, fulfillment_id: uuid.UUID, *,
                           principal: Principal) -> FulfillmentOut:
    """The parcel waits at the counter: the customer is told and the hold clock starts."""
    work = await _begin(session, fulfillment_id, principal, states.Action.READY_FOR_PICKUP)
    location = await config.get_location(work.fulfillment.location)
    hold_days = location.pickup_hold_days if location is not None else 7
    if work.order.pickup_code:
        # Tens of ms of CPU, on purpose (counter.py): in a thread, not on the event loop.
        digest = await asyncio.to_thread(counter.PickupCodeDigest.of, work.order.pickup_code)
        work.fulfillment.pickup_code_digest = digest.stored()
    now = utcnow()
    work.fulfillment.status = states.Status.READY_FOR_PICKUP.value
    work.fulfillment.ready_at = now
    work.fulfillment.hold_until = now + dt.timedelta(days=hold_days)
    await _notify(session, "email.ready_for_pickup", work.order, work.fulfillment,
                  pickup_code=work.order.pickup_code)
    work.data = {"hold_until": work.fulfillment.hold_until.isoformat()}
    return await _finish(session, work, "ready_for_pickup")


async def _notify(session: AsyncSession, kind: str, order: Order, fulfillment: Fulfillment,
                  **extra: Any) -> None:
    await enqueue(session, kind, {
        "order_number": order.number, "email": order.customer_email,
        "name": order.customer_name, "location": fulfillment.location,
        "hold_until": fulfillment.hold_until.isoformat() if fulfillment.hold_until else None,
        "tracking_token": order.tracking_token, **extra,
    })


async def handover(session: AsyncSession, fulfillment_id: uuid.UUID, data: HandoverIn, *,
                   principal: Principal) -> FulfillmentOut:
    """Handed over at the counter: with the customer's code, or a manager's override; above
    the channel's amount, once the associate has checked the customer's ID."""
    work = await _begin(session, fulfillment_id, principal, states.Action.HANDOVER)
    if data.code is not None:
        given = counter.normalise(data.code)
        expected = work.order.pickup_code or ""
        if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
            raise Conflict("This pickup code does not match the order; check it with the "
                           "customer, or ask a manager to override.", code="wrong_pickup_code")
    elif data.override_reason is not None and data.override_reason.strip():
        if principal.role not in MANAGER_ROLES:
            raise Forbidden("Only a manager can hand over an order without its pickup code.",
                            code="override_not_allowed")
        work.fulfillment.override_reason = data.override_reason.strip()
    else:
        raise InvalidInput("Send the customer's pickup code, or a manager's override_reason.",
                           code="pickup_code_required")
    order = work.order
    if not data.id_checked and await _id_check_required(order.total, order.currency,
                                                        order.channel):
        raise InvalidInput("Check the customer's ID before handing over this order (its amount "
                           "asks for it), then confirm it with id_checked.",
                           code="id_check_required", total=order.total,
                           currency=order.currency)
    units = {line.id: line.quantity for line in work.lines if line.quantity}
    handed = await _consume(session, work, units)
    now = utcnow()
    work.fulfillment.status = states.Status.HANDED_OVER.value
    work.fulfillment.handed_over_at = now
    work.fulfillment.handed_over_by = principal.actor
    work.fulfillment.collected_by = (data.collected_by or "").strip() or None
    work.data = {"lines": handed, "collected_by": work.fulfillment.collected_by,
                 "with": "code" if data.code is not None else "override",
                 **({"id_checked": True} if data.id_checked else {}),
                 **({"override_reason": work.fulfillment.override_reason}
                    if data.code is None else {})}
    return await _finish(session, work, "handed_over")


# --- rejection ----------------------------------------------------------------------------------


async def _fulfillment_at(
    session: AsyncSession, order: Order, location: str
) -> Fulfillment:
    """The order's not-yet-started fulfillment at ``location``, or a new one."""
    found = await session.scalar(select(Fulfillment).where(
        Fulfillment.order_id == order.id, Fulfillment.location == location,
        Fulfillment.status == states.Status.NEW.value))
    if found is not None:
        return found
    now = utcnow()
    fulfillment = Fulfillment(id=new_id(), order_id=order.id, order_number=order.number,
                              location=location, kind=order.delivery_method,
                              status=states.Status.NEW.value, created_at=now, updated_at=now)
    session.add(fulfillment)
    return fulfillment


async def _work_for(
    session: AsyncSession, work: _Work, rejected: dict[uuid.UUID, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[uuid.UUID, int]]:
    """Route the rejected units again (the order's verb: the routing policy decides, as at
    capture) and make the work where they went: what went elsewhere (with the work made
    there), what is held at a location with no capacity left today (no work made: the
    caller puts the order on hold), what such a location works all the same because the
    order can no longer be held (partly shipped: finished rather than left half-sent), and
    what nowhere has, per order line."""
    order, here = work.order, work.fulfillment.location
    units = {line.line_id: rejected[line.id] for line in work.lines if rejected.get(line.id)}
    routed = await order_verbs.reroute_rejected(
        session, order, units, {line.line_id: line.sku for line in work.lines}, here=here)
    can_hold = "hold" in lifecycle.allowed_actions(order.status)
    elsewhere: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    worked: list[dict[str, Any]] = []
    for placed, full in [*((m, False) for m in routed.elsewhere),
                         *((m, True) for m in routed.at_capacity)]:
        moved = {"sku": placed.sku, "quantity": placed.quantity, "location": placed.location}
        if full:
            if can_hold:
                held.append(moved)
                continue
            worked.append(moved)
        # Its pick list is made from the allocation (``_sync_lines``).
        target = await _fulfillment_at(session, order, placed.location)
        elsewhere.append({**moved, "fulfillment_id": str(target.id)})
    return elsewhere, held, worked, routed.nowhere


async def reject(session: AsyncSession, fulfillment_id: uuid.UUID, data: RejectIn, *,
                 principal: Principal) -> FulfillmentOut:
    """Units the location cannot send: the stock is corrected, the rest goes elsewhere or is
    cancelled on the order (the customer sees it on their timeline)."""
    work = await _begin(session, fulfillment_id, principal, states.Action.REJECT)
    units = _units(data.lines, work.lines, "reject")
    location, number = work.fulfillment.location, work.order.number
    reason = f"rejected: {data.reason.replace('_', ' ')}"
    for line in sorted(work.lines, key=lambda line: line.sku):
        quantity = units.get(line.id, 0)
        if not quantity:
            continue
        await order_verbs.take_from_allocation(session, work.order.id, line.line_id, location,
                                               quantity)
        line.quantity -= quantity
        line.rejected_quantity += quantity
        # The units are not sellable (damaged) or not there (not found): out of the books.
        await inventory.release(session, sku=line.sku, location=location, quantity=quantity)
        await inventory.adjust(session, sku=line.sku, location=location, delta=-quantity,
                               reason=reason, actor=principal.actor, reference=number)
    order_lines, _allocations = await orders.lines_and_allocations(session, work.order.id)
    rerouted, over_capacity, worked, nowhere = await _work_for(session, work, units)
    work.fulfillment.status = (_settled(work.lines) or states.Status(work.fulfillment.status)).value
    work.data = {
        "reason": data.reason, "note": data.note,
        "lines": [{"sku": line.sku, "quantity": units[line.id]} for line in work.lines
                  if units.get(line.id)],
        "rerouted": rerouted,
        "cancelled": [{"sku": line.sku, "quantity": nowhere[line.id]} for line in order_lines
                      if nowhere.get(line.id)],
    }
    if over_capacity:
        work.data["reserved"] = over_capacity  # held, no work there yet
    if worked:
        work.data["over_capacity"] = worked
    work.data["locations"] = sorted({location, *(r["location"] for r in rerouted)})
    await hand_off(session, order_id=work.order.id, order_number=number,
                   locations=[r["location"] for r in rerouted], actor=principal.actor)
    if over_capacity:
        full = sorted({r["location"] for r in over_capacity})
        await order_actions.hold(session, number, HoldIn(
            reason="stock_problem",
            note=(f"Rejected units can only come from {', '.join(full)}, at capacity today; "
                  "they are held there. Release to send them there anyway, or edit the "
                  "order.")), principal=SYSTEM)
    if nowhere:
        await order_verbs.cancel_unallocated(
            session, work.order, order_lines, nowhere, principal=principal,
            reason="out of stock after a store rejection",
            data={"fulfillment_id": str(work.fulfillment.id), "locations": [location]})
        await _notify(session, "email.items_cancelled", work.order, work.fulfillment,
                      lines=work.data["cancelled"])
    return await _finish(session, work, "rejected")


# --- "I'm here" -----------------------------------------------------------------------------------


async def customer_arrived(session: AsyncSession, order_id: uuid.UUID) -> dt.datetime:
    """The customer says they are at the counter: the store's screen shows it live.

    Only for a pickup waiting at the counter (409 otherwise). A second tap changes nothing
    and gives back the time of the first.
    """
    order = await session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if order is None:
        raise NotFound("No such order.", code="not_found")
    waiting = list(await session.scalars(
        select(Fulfillment).where(Fulfillment.order_id == order_id,
                                  Fulfillment.kind == "pickup",
                                  Fulfillment.status == states.Status.READY_FOR_PICKUP.value)
        .order_by(Fulfillment.created_at, Fulfillment.id)
        .with_for_update().execution_options(populate_existing=True)))
    if not waiting:
        raise Conflict("This order is not waiting at the counter yet: the store will tell you "
                       "when it is ready.", code="not_ready_for_pickup",
                       order_status=order.status)
    already = [f.customer_arrived_at for f in waiting if f.customer_arrived_at is not None]
    if len(already) == len(waiting):
        return min(already)
    now = utcnow()
    for fulfillment in waiting:
        if fulfillment.customer_arrived_at is None:
            fulfillment.customer_arrived_at = fulfillment.updated_at = now
    await record_event(session, topic="order", type="fulfillment.customer_arrived",
                       subject=order.number, actor="customer",
                       data={"fulfillment_ids": [str(f.id) for f in waiting],
                             "locations": sorted({f.location for f in waiting}),
                             "arrived_at": now.isoformat()})
    await session.flush()
    return now


async def counter_check_in(session: AsyncSession, order_id: uuid.UUID) -> tuple[
    bool, dt.datetime | None
]:
    """For the tracking page: is the order waiting at a counter, and since when has the
    customer said they are there (None: not yet)."""
    rows = (await session.execute(
        select(Fulfillment.customer_arrived_at).where(
            Fulfillment.order_id == order_id, Fulfillment.kind == "pickup",
            Fulfillment.status == states.Status.READY_FOR_PICKUP.value))).all()
    arrived = [at for (at,) in rows if at is not None]
    return bool(rows), (min(arrived) if rows and len(arrived) == len(rows) else None)


# --- uncollected pickups ----------------------------------------------------------------------


@dataclass
class Sweep:
    """What one pass over the pickups waiting at counters did (order numbers)."""

    reminded: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


async def sweep_uncollected(session: AsyncSession, now: dt.datetime | None = None) -> Sweep:
    """Remind customers half-way through the hold; cancel and restock once it is over.

    For a periodic task (``UncollectedSweeper``): idempotent, each run acts on what is due at
    ``now``. Each pickup is re-read under the order's lock (handed over meanwhile: left
    alone) and handled in a savepoint, so one that cannot be cancelled does not stop the rest.
    """
    now = now or utcnow()
    done = Sweep()
    due = list(await session.scalars(
        select(Fulfillment.id).where(Fulfillment.status == states.Status.READY_FOR_PICKUP.value,
                                     Fulfillment.hold_until.is_not(None))
        .order_by(Fulfillment.hold_until, Fulfillment.id)))
    for fulfillment_id in due:
        try:
            async with session.begin_nested():
                outcome = await _sweep_one(session, fulfillment_id, now)
        except DomainError as refused:
            log.warning("uncollected pickup %s left as it is: %s", fulfillment_id, refused)
            continue
        if outcome is not None:
            getattr(done, outcome[0]).append(outcome[1])
    await session.flush()
    return done


async def _sweep_one(session: AsyncSession, fulfillment_id: uuid.UUID,
                     now: dt.datetime) -> tuple[str, str] | None:
    found = await session.get(Fulfillment, fulfillment_id)
    if found is None:
        return None
    order, fulfillment = await _lock(session, found)
    if (fulfillment.status != states.Status.READY_FOR_PICKUP.value
            or fulfillment.hold_until is None or fulfillment.ready_at is None):
        return None  # handed over or cancelled since the list was read
    if fulfillment.hold_until <= now:
        await _expire(session, order, fulfillment, now)
        return "cancelled", fulfillment.order_number
    if fulfillment.reminded_at is None and now >= (
        fulfillment.ready_at + (fulfillment.hold_until - fulfillment.ready_at) / 2
    ):
        fulfillment.reminded_at = now
        await _notify(session, "email.pickup_reminder", order, fulfillment,
                      pickup_code=order.pickup_code)
        await record_event(session, topic="order", type="fulfillment.pickup_reminder_sent",
                           subject=order.number, actor=SYSTEM.actor,
                           data={"fulfillment_id": str(fulfillment.id),
                                 "locations": [fulfillment.location],
                                 "hold_until": fulfillment.hold_until.isoformat()})
        return "reminded", fulfillment.order_number
    return None


async def _expire(session: AsyncSession, order: Order, fulfillment: Fulfillment,
                  now: dt.datetime) -> None:
    """Not collected in time: the order is cancelled, its units go back on sale."""
    # The order's own cancel gives the reservations back and writes the customer's event.
    await order_actions.cancel(session, fulfillment.order_number,
                               CancelIn(reason="not collected in time"), principal=SYSTEM)
    fulfillment.status = states.Status.CANCELLED.value
    fulfillment.updated_at = now
    await record_event(session, topic="order", type="fulfillment.cancelled",
                       subject=order.number, actor=SYSTEM.actor,
                       data={"fulfillment_id": str(fulfillment.id),
                             "locations": [fulfillment.location],
                             "reason": "not collected in time"})
    await _notify(session, "email.pickup_cancelled", order, fulfillment)


# Key of the PostgreSQL advisory lock one sweep holds for its transaction ("compt", 3).
SWEEP_LOCK_KEY = 0x636F6D7074_03


async def sweep_once(sessionmaker: async_sessionmaker[AsyncSession]) -> Sweep | None:
    """One sweep in its own transaction; None when another process is sweeping right now.

    On PostgreSQL a transaction-scoped advisory lock lets one process sweep at a time (the
    others skip their turn rather than wait); SQLite has one writer at a time anyway.
    """
    async with sessionmaker() as session, session.begin():
        if is_postgres(session) and not await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK_KEY}
        ):
            return None
        return await sweep_uncollected(session)


async def sweep_turn(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """One turn of the periodic sweep (periodic.py), with what it did in the log."""
    done = await sweep_once(sessionmaker)
    if done is not None and (done.reminded or done.cancelled):
        log.info("uncollected pickups: %d reminded, %d cancelled",
                 len(done.reminded), len(done.cancelled))


# --- customer notifications ---------------------------------------------------------------------


async def _log_notification(delivery: Delivery) -> None:
    # No e-mail sender exists yet: the message is logged (and stays in the outbox as sent).
    log.info("notification %s for order %s to %s", delivery.kind,
             delivery.payload.get("order_number"), delivery.payload.get("email"))


NOTIFICATION_HANDLERS = {
    kind: _log_notification
    for kind in ("email.ready_for_pickup", "email.pickup_reminder", "email.pickup_cancelled",
                 "email.items_cancelled")
}
