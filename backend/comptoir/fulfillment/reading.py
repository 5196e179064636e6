"""Reading fulfillments: one, a page of a location's queue (cursor pagination), and what
a store handed over; each rendered with its lines, shipments and pickup checks."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.catalog import service as catalog
from comptoir.config import service as config
from comptoir.errors import Forbidden, InvalidInput, NotFound
from comptoir.fulfillment import counter, states
from comptoir.fulfillment.creation import (
    close_cancelled,
    make_page,
    of_cancelled_order,
    pick_lists,
    queue_after,
)
from comptoir.fulfillment.models import Fulfillment, FulfillmentLine, Shipment
from comptoir.fulfillment.schemas import (
    FulfillmentLineOut,
    FulfillmentOut,
    FulfillmentPage,
    PickupCodeCheckOut,
    ShipmentOut,
    UnitsIn,
)
from comptoir.orders.models import Order
from comptoir.pagination import decode_time_cursor, encode_cursor

MAX_PAGE = 100
MANAGER_ROLES = ("admin", "manager")


# --- reading ----------------------------------------------------------------------------------


def may_work_at(principal: Principal, location: str) -> bool:
    return principal.role in MANAGER_ROLES or (
        principal.role == "associate" and principal.location == location)


def fulfillment_not_found(fulfillment_id: uuid.UUID) -> NotFound:
    return NotFound(f"No fulfillment {fulfillment_id}.", code="fulfillment_not_found")


async def render(session: AsyncSession, fulfillment: Fulfillment,
                  lines: Sequence[FulfillmentLine] | None = None) -> FulfillmentOut:
    known = None if lines is None else {fulfillment.id: list(lines)}
    return (await _render_page(session, [fulfillment], known))[0]


async def _render_page(
    session: AsyncSession, rows: Sequence[Fulfillment],
    known: Mapping[uuid.UUID, list[FulfillmentLine]] | None = None,
) -> list[FulfillmentOut]:
    """Fulfillments with their pick lists (``pick_lists``: work not started is checked
    against its order), parcels and, for pickups, their orders' totals (the ID check): a few
    queries for the whole page."""
    lines: dict[uuid.UUID, list[FulfillmentLine]] = dict(known or {})
    lines.update(await pick_lists(session, [row for row in rows if row.id not in lines]))
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
    return {order_id: await needs_id_check(total, currency, channel)
            for order_id, total, currency, channel in totals}


async def needs_id_check(total: int, currency: str, channel_code: str) -> bool:
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


async def delivered_units(session: AsyncSession, order_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Units of each order line that have left so far (shipped or handed over): what
    invoicing may invoice, and payments capture."""
    return (await delivered_units_of(session, [order_id])).get(order_id, {})


async def delivered_units_of(
    session: AsyncSession, order_ids: Collection[uuid.UUID],
) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """``delivered_units`` of several orders in one query: order -> order line -> units."""
    if not order_ids:
        return {}
    found: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
    for order_id, line_id, units in await session.execute(
            select(Fulfillment.order_id, FulfillmentLine.line_id,
                   func.sum(FulfillmentLine.shipped_quantity))
            .join(Fulfillment, Fulfillment.id == FulfillmentLine.fulfillment_id)
            .where(Fulfillment.order_id.in_(list(order_ids)))
            .group_by(Fulfillment.order_id, FulfillmentLine.line_id)):
        if units:
            found.setdefault(order_id, {})[line_id] = int(units)
    return found


async def goods_left_between(session: AsyncSession, start: dt.datetime,
                             end: dt.datetime) -> set[uuid.UUID]:
    """The orders some goods of which left from ``start`` (included) to ``end`` (excluded):
    a parcel shipped or a pickup handed over."""
    shipped = select(Fulfillment.order_id).join(
        Shipment, Shipment.fulfillment_id == Fulfillment.id).where(
        Shipment.shipped_at >= start, Shipment.shipped_at < end)
    handed = select(Fulfillment.order_id).where(
        Fulfillment.handed_over_at >= start, Fulfillment.handed_over_at < end)
    return set(await session.scalars(shipped.union(handed)))


async def get_fulfillment(
    session: AsyncSession, fulfillment_id: uuid.UUID, principal: Principal
) -> FulfillmentOut:
    """One fulfillment with its pick list; an associate sees only their location's."""
    fulfillment = await session.get(Fulfillment, fulfillment_id)
    if fulfillment is None or not may_work_at(principal, fulfillment.location):
        raise fulfillment_not_found(fulfillment_id)
    return await render(session, fulfillment)


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


def _queue(location: str | None, status: str | None,
           after: tuple[dt.datetime, uuid.UUID] | None) -> Select[tuple[Fulfillment]]:
    """The queue, oldest first; open work of a cancelled order counts as cancelled (it is
    closed as the read passes it, ``close_cancelled``)."""
    query = select(Fulfillment)
    if location is not None:
        query = query.where(Fulfillment.location == location)
    cancelled = of_cancelled_order()
    if status in states.OPEN:
        query = query.where(Fulfillment.status == status, ~cancelled)
    elif status == states.Status.CANCELLED:
        query = query.where((Fulfillment.status == status)
                            | (Fulfillment.status.in_(sorted(states.OPEN)) & cancelled))
    elif status is not None:
        query = query.where(Fulfillment.status == status)
    if after is not None:
        query = query.where(queue_after(*after))
    return query.order_by(Fulfillment.created_at, Fulfillment.id)


async def _queue_page(session: AsyncSession, location: str | None, status: str | None,
                      cursor: str | None, limit: int) -> FulfillmentPage:
    """A page of the queue: the work it shows is made as it is read (``make_page``), the
    rest of the backlog waits; the same rows, order and cursors as if all were made."""
    after = decode_time_cursor(cursor) if cursor is not None else None
    query = _queue(location, status, after).limit(limit + 1)
    found = list(await session.scalars(query))
    if status in (None, states.Status.NEW) and await make_page(
            session, location, after, found, limit):
        found = list(await session.scalars(query))
    await close_cancelled(session, location, status, after, found, limit)
    rows = found[:limit]
    items = await _render_page(session, rows)
    return FulfillmentPage(
        items=items, next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id)
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
        at, before = decode_time_cursor(cursor)
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
        next_cursor=encode_cursor(last.handed_over_at, last.id)
        if last is not None and last.handed_over_at is not None else None)


