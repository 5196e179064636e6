"""What staff do to an order: cancel, hold, release, add a note (``edit`` is beside it).
Each writes an event.

Every action locks the order row first (PostgreSQL; SQLite serialises writers anyway), then
touches stock levels in (sku, location) order, bumps ``version`` and appends the event in
the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.db.base import utcnow
from comptoir.errors import DomainError, InvalidInput, PreconditionFailed
from comptoir.events.service import record_event
from comptoir.events.types import EventType
from comptoir.orders import lifecycle, service
from comptoir.orders.lifecycle import Action
from comptoir.orders.models import Order, OrderAllocation, OrderLine
from comptoir.orders.reservations import change_reservations, released
from comptoir.orders.schemas import (
    CancelIn,
    CancelLineIn,
    EditLineIn,
    HoldIn,
    NoteIn,
    OrderOut,
)

__all__ = [
    "Change",
    "VersionRequired",
    "add_note",
    "cancel",
    "cancel_locked",
    "cancel_unallocated",
    "check_version",
    "find_line",
    "hold",
    "order_event",
    "parse_version",
    "release",
    "release_locked",
    "retotal",
    "touch",
]

Change = Coroutine[Any, Any, OrderOut]


class VersionRequired(DomainError):
    status_code = 428
    code = "version_required"
    title = "Precondition required"


def parse_version(if_match: str) -> int | None:
    """The version in an ``If-Match`` header (``3``, ``"3"`` or ``W/"3"``); None for ``*``."""
    value = if_match.strip()
    if value == "*":
        return None
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInput(f"If-Match '{if_match}' is not an order version.",
                           code="invalid_if_match")
    return int(value)


def check_version(order: Order, if_match: str | None, *, required: bool) -> None:
    if if_match is None:
        if required:
            raise VersionRequired(
                f"Send 'If-Match: {order.version}' (the version you read) to change "
                f"{order.number}.",
                current_version=order.version,
            )
        return
    expected = parse_version(if_match)
    if expected is not None and expected != order.version:
        raise PreconditionFailed(
            f"{order.number} changed since you read it (version {expected}; it is now "
            f"{order.version}). Read it again, then retry.",
            code="stale_version", current_version=order.version,
        )


def touch(order: Order, now: dt.datetime | None = None) -> dt.datetime:
    """The order changed: one version more (what ``If-Match`` compares with); the time."""
    order.version += 1
    order.updated_at = now or utcnow()
    return order.updated_at


async def order_event(
    session: AsyncSession, order: Order, type: EventType, principal: Principal,
    data: dict[str, Any],
) -> None:
    await record_event(session, topic="order", type=type, subject=order.number,
                       actor=principal.actor, data={"version": order.version, **data})


def _shipping_basis(order: Order) -> int:
    """The shipping fee as the channel prices it (tax included or not)."""
    return order.shipping + order.shipping_tax if order.prices_include_tax else order.shipping


def retotal(order: Order, lines: Sequence[OrderLine], shipping_fee: int) -> None:
    """Price each line at its own rate and shipping at the order's (standard) rate."""
    totals = service.price_lines(lines, shipping_fee, order.vat_rate_bp,
                                 order.prices_include_tax).totals
    order.subtotal, order.shipping, order.shipping_tax = (
        totals.subtotal, totals.shipping, totals.shipping_tax)
    order.tax, order.total = totals.tax, totals.total


def find_line(
    item: CancelLineIn | EditLineIn, lines: Sequence[OrderLine]
) -> OrderLine | None:
    if item.line_id is not None:
        line = next((line for line in lines if line.id == item.line_id), None)
        if line is None:
            raise InvalidInput(f"This order has no line {item.line_id}.", code="unknown_line")
        return line
    if item.sku is None:
        raise InvalidInput("Name each line by 'line_id' or 'sku'.", code="line_required")
    return next((line for line in lines if line.sku == item.sku), None)


def _take_back(
    allocations: Sequence[OrderAllocation], line: OrderLine, quantity: int
) -> dict[tuple[str, str], int]:
    """Reduce ``line``'s allocations by ``quantity`` units, last location first."""
    changes: dict[tuple[str, str], int] = {}
    for allocation in sorted((a for a in allocations if a.line_id == line.id and a.quantity > 0),
                             key=lambda a: a.location, reverse=True):
        if quantity == 0:
            break
        take = min(quantity, allocation.quantity)
        allocation.quantity -= take
        quantity -= take
        key = (allocation.sku, allocation.location)
        changes[key] = changes.get(key, 0) - take
    return changes


# --- cancel ----------------------------------------------------------------------------------


def _units_to_cancel(items: Sequence[CancelLineIn], lines: Sequence[OrderLine]) -> dict[
    uuid.UUID, int
]:
    wanted: dict[uuid.UUID, int] = {}
    for item in items:
        line = find_line(item, lines)
        if line is None:
            raise InvalidInput(f"This order has no line for {item.sku}.", code="unknown_line")
        quantity = item.quantity if item.quantity is not None else line.quantity
        if quantity <= 0 and item.quantity is not None:
            raise InvalidInput(f"{line.sku}: cancel at least one unit.", code="invalid_quantity",
                               sku=line.sku)
        wanted[line.id] = wanted.get(line.id, 0) + quantity
    for line in lines:
        if wanted.get(line.id, 0) > line.quantity:
            raise InvalidInput(
                f"{line.sku}: {wanted[line.id]} units to cancel, but {line.quantity} remain.",
                code="quantity_exceeds_line", sku=line.sku, remaining=line.quantity)
    wanted = {line_id: q for line_id, q in wanted.items() if q > 0}
    if not wanted:
        raise InvalidInput("Those lines have nothing left to cancel.", code="nothing_to_cancel")
    return wanted


async def cancel(
    session: AsyncSession, number: str, data: CancelIn, *, principal: Principal,
    if_match: str | None = None,
) -> OrderOut:
    """Cancel the whole order, or some units of some lines, giving back exactly their stock."""
    order = await service.find_order(session, number, principal, for_update=True)
    check_version(order, if_match, required=False)
    return await cancel_locked(session, order, data, principal=principal)


async def cancel_locked(
    session: AsyncSession, order: Order, data: CancelIn, *, principal: Principal
) -> OrderOut:
    """``cancel`` of an order the caller has locked (and checked the version of)."""
    lifecycle.move(order.status, Action.CANCEL)  # refuses early if cancelling is not allowed
    lines, allocations = await service.lines_and_allocations(session, order.id)
    whole_order = not data.lines
    wanted = ({line.id: line.quantity for line in lines if line.quantity > 0} if whole_order
              else _units_to_cancel(data.lines or [], lines))
    changes: dict[tuple[str, str], int] = {}
    for line in lines:
        if line.id in wanted:
            for key, delta in _take_back(allocations, line, wanted[line.id]).items():
                changes[key] = changes.get(key, 0) + delta
            line.quantity -= wanted[line.id]
            line.cancelled_quantity += wanted[line.id]
    await change_reservations(session, changes)
    ends_order = all(line.quantity == 0 for line in lines)
    previous = order.status
    if ends_order:
        order.status = lifecycle.move(order.status, Action.CANCEL).status.value
        order.held_from = order.hold_reason = order.hold_note = None
    # Shipping stays as agreed while something is left to deliver.
    retotal(order, lines, 0 if ends_order else _shipping_basis(order))
    touch(order)
    ended = EventType.ORDER_CANCELLED if ends_order else EventType.ORDER_LINES_CANCELLED
    await order_event(session, order, ended,
                 principal, {
                     "from": previous, "reason": data.reason,
                     "lines": [{"line_id": str(line.id), "sku": line.sku,
                                "quantity": wanted[line.id]} for line in lines
                               if line.id in wanted],
                     "released": released(changes),
                 })
    await session.flush()
    return service.order_out(order, lines, allocations)


async def cancel_unallocated(
    session: AsyncSession, order: Order, lines: Sequence[OrderLine],
    units: Mapping[uuid.UUID, int], *, principal: Principal, reason: str,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Cancel units that no location holds any more (a store rejected them and nowhere else
    has them): the lines and totals shrink; the stock was already dealt with by the caller.
    The caller holds the order's lock."""
    for line in lines:
        if units.get(line.id):
            line.quantity -= units[line.id]
            line.cancelled_quantity += units[line.id]
    ends_order = all(line.quantity == 0 for line in lines)
    previous = order.status
    if ends_order:
        order.status = lifecycle.move(order.status, Action.CANCEL).status.value
        order.held_from = order.hold_reason = order.hold_note = None
    retotal(order, lines, 0 if ends_order else _shipping_basis(order))
    touch(order)
    ended = EventType.ORDER_CANCELLED if ends_order else EventType.ORDER_LINES_CANCELLED
    await order_event(session, order, ended,
                 principal, {
                     "from": previous, "reason": reason, **(data or {}),
                     "lines": [{"line_id": str(line.id), "sku": line.sku,
                                "quantity": units[line.id]} for line in lines
                               if units.get(line.id)],
                     "released": [],
                 })


# --- hold and release ---------------------------------------------------------------------------


async def hold(
    session: AsyncSession, number: str, data: HoldIn, *, principal: Principal,
    if_match: str | None = None,
) -> OrderOut:
    """Stop an order from going further until someone releases it, saying why."""
    if data.reason not in lifecycle.HOLD_REASONS:
        raise InvalidInput(f"Unknown hold reason '{data.reason}'; one of "
                           f"{', '.join(lifecycle.HOLD_REASONS)}.", code="unknown_hold_reason",
                           allowed=list(lifecycle.HOLD_REASONS))
    order = await service.find_order(session, number, principal, for_update=True)
    check_version(order, if_match, required=False)
    moved = lifecycle.move(order.status, Action.HOLD)
    previous = order.status
    order.status = moved.status.value
    order.held_from = moved.held_from.value if moved.held_from else None
    order.hold_reason, order.hold_note = data.reason, data.note
    touch(order)
    await order_event(session, order, EventType.ORDER_HELD, principal,
                 {"from": previous, "reason": data.reason, "note": data.note})
    return await service.render(session, order)


async def release(
    session: AsyncSession, number: str, *, principal: Principal, if_match: str | None = None
) -> OrderOut:
    """Let a held order go on from where it was stopped."""
    order = await service.find_order(session, number, principal, for_update=True)
    check_version(order, if_match, required=False)
    return await release_locked(session, order, principal=principal)


async def release_locked(session: AsyncSession, order: Order, *, principal: Principal
                         ) -> OrderOut:
    """``release`` of an order the caller has locked (and checked the version of)."""
    moved = lifecycle.move(order.status, Action.RELEASE, held_from=order.held_from)
    reason = order.hold_reason
    order.status = moved.status.value
    order.held_from = order.hold_reason = order.hold_note = None
    touch(order)
    await order_event(session, order, EventType.ORDER_RELEASED, principal,
                 {"to": order.status, "reason": reason})
    return await service.render(session, order)


# --- notes ------------------------------------------------------------------------------------


async def add_note(
    session: AsyncSession, number: str, data: NoteIn, *, principal: Principal
) -> OrderOut:
    """A note on the order's timeline, signed by whoever wrote it."""
    text = data.text.strip()
    if not text:
        raise InvalidInput("A note needs some text.", code="empty_note")
    order = await service.find_order(session, number, principal, for_update=True)
    touch(order)
    await order_event(session, order, EventType.ORDER_NOTE_ADDED, principal, {"text": text})
    return await service.render(session, order)
