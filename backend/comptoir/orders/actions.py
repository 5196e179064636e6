"""What staff do to an order: cancel, hold, release, edit, add a note. Each writes an event.

Every action locks the order row first (PostgreSQL; SQLite serialises writers anyway), then
touches stock levels in (sku, location) order, bumps ``version`` and appends the event in
the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Coroutine, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.config import service as config
from comptoir.db.base import new_id, utcnow
from comptoir.errors import Conflict, DomainError, InvalidInput, PreconditionFailed
from comptoir.events.service import record_event
from comptoir.inventory import service as inventory
from comptoir.orders import lifecycle, service, tax
from comptoir.orders.lifecycle import Action, Status
from comptoir.orders.models import Order, OrderAllocation, OrderLine
from comptoir.orders.schemas import (
    CancelIn,
    CancelLineIn,
    EditIn,
    EditLineIn,
    HoldIn,
    NoteIn,
    OrderOut,
)
from comptoir.orders.sourcing import Plan
from comptoir.routing import service as routing

__all__ = [
    "Change",
    "NoCapacity",
    "VersionRequired",
    "add_note",
    "cancel",
    "cancel_unallocated",
    "check_version",
    "edit",
    "hold",
    "parse_version",
    "release",
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


def _touch(order: Order) -> None:
    order.version += 1
    order.updated_at = utcnow()


async def _event(
    session: AsyncSession, order: Order, type: str, principal: Principal, data: dict[str, Any]
) -> None:
    await record_event(session, topic="order", type=type, subject=order.number,
                       actor=principal.actor, data={"version": order.version, **data})


def _shipping_basis(order: Order) -> int:
    """The shipping fee as the channel prices it (tax included or not)."""
    return order.shipping + order.shipping_tax if order.prices_include_tax else order.shipping


def _retotal(order: Order, lines: Sequence[OrderLine], shipping_fee: int) -> None:
    service.price_lines(lines, order.vat_rate_bp, order.prices_include_tax)
    totals = service.order_totals(lines, shipping_fee, order.vat_rate_bp,
                                  order.prices_include_tax)
    order.subtotal, order.shipping, order.shipping_tax = (
        totals.subtotal, totals.shipping, totals.shipping_tax)
    order.tax, order.total = totals.tax, totals.total


def _released(changes: Mapping[tuple[str, str], int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "location": location, "quantity": -delta}
            for (sku, location), delta in sorted(changes.items()) if delta < 0]


def _reserved(changes: Mapping[tuple[str, str], int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "location": location, "quantity": delta}
            for (sku, location), delta in sorted(changes.items()) if delta > 0]


def _find_line(
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
        line = _find_line(item, lines)
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
    await service.change_reservations(session, changes, demand=[], method=order.delivery_method,
                                      store=order.pickup_location)
    ends_order = all(line.quantity == 0 for line in lines)
    previous = order.status
    if ends_order:
        order.status = lifecycle.move(order.status, Action.CANCEL).status.value
        order.held_from = order.hold_reason = order.hold_note = None
    # Shipping stays as agreed while something is left to deliver.
    _retotal(order, lines, 0 if ends_order else _shipping_basis(order))
    _touch(order)
    await _event(session, order, "order.cancelled" if ends_order else "order.lines_cancelled",
                 principal, {
                     "from": previous, "reason": data.reason,
                     "lines": [{"line_id": str(line.id), "sku": line.sku,
                                "quantity": wanted[line.id]} for line in lines
                               if line.id in wanted],
                     "released": _released(changes),
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
    _retotal(order, lines, 0 if ends_order else _shipping_basis(order))
    _touch(order)
    await _event(session, order, "order.cancelled" if ends_order else "order.lines_cancelled",
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
    _touch(order)
    await _event(session, order, "order.held", principal,
                 {"from": previous, "reason": data.reason, "note": data.note})
    return await service.render(session, order)


async def release(
    session: AsyncSession, number: str, *, principal: Principal, if_match: str | None = None
) -> OrderOut:
    """Let a held order go on from where it was stopped."""
    order = await service.find_order(session, number, principal, for_update=True)
    check_version(order, if_match, required=False)
    moved = lifecycle.move(order.status, Action.RELEASE, held_from=order.held_from)
    reason = order.hold_reason
    order.status = moved.status.value
    order.held_from = order.hold_reason = order.hold_note = None
    _touch(order)
    await _event(session, order, "order.released", principal,
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
    _touch(order)
    await _event(session, order, "order.note_added", principal, {"text": text})
    return await service.render(session, order)


# --- edit -------------------------------------------------------------------------------------


def _wanted_quantities(
    items: Sequence[EditLineIn], lines: Sequence[OrderLine]
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int], list[EditLineIn]]:
    """New quantities and prices of existing lines, and the lines to add."""
    quantities: dict[uuid.UUID, int] = {}
    prices: dict[uuid.UUID, int] = {}
    added: list[EditLineIn] = []
    for item in items:
        line = _find_line(item, lines)
        if line is not None:
            if line.id in quantities:
                raise InvalidInput(f"{line.sku} appears twice in this change.",
                                   code="duplicate_line", sku=line.sku)
            service.check_quantity(line.sku, item.quantity, allow_zero=True)
            service.check_unit_price(line.sku, item.unit_price)
            quantities[line.id] = item.quantity
            if item.unit_price is not None:
                prices[line.id] = item.unit_price
            continue
        assert item.sku is not None
        if any(a.sku == item.sku for a in added):
            raise InvalidInput(f"{item.sku} appears twice in this change.",
                               code="duplicate_sku", sku=item.sku)
        service.check_quantity(item.sku, item.quantity)
        service.check_unit_price(item.sku, item.unit_price)
        added.append(item)
    return quantities, prices, added


Placement = dict[tuple[uuid.UUID, str], int]  # (line id, location) -> units held there


class NoCapacity(Conflict):
    code = "no_capacity"
    title = "No capacity left today"


async def _propose(
    demand: Sequence[tuple[str, int]], method: str, store: str | None,
    stock: Mapping[str, Mapping[str, int]], order_sites: Sequence[str], closed: Collection[str],
) -> Plan:
    """Where to reserve ``demand``, never at a location with no capacity left today that the
    order does not use yet (``closed``). Refuses with ``no_capacity`` when only such
    locations have the units, with ``out_of_stock`` when nowhere has them."""
    shut = set(closed) - set(order_sites)
    open_stock = {sku: {loc: n for loc, n in levels.items() if loc not in shut}
                  for sku, levels in stock.items()}
    proposal = await service.plan(demand, method, store, open_stock, order_sites)
    if proposal.ok:
        return proposal
    if shut and (await service.plan(demand, method, store, stock, order_sites)).ok:
        full = sorted({loc for sku, _q in demand for loc, n in stock.get(sku, {}).items()
                       if n > 0 and loc in shut})
        raise NoCapacity(
            f"The units of this change are only at {', '.join(full)}, which "
            f"{'has' if len(full) == 1 else 'have'} no capacity left today: try again "
            "tomorrow, or raise the capacity.", locations=full)
    raise service.out_of_stock(proposal.shortages)


async def _place(
    held: Placement, target: Mapping[uuid.UUID, int], sku_of: Mapping[uuid.UUID, str],
    stock: Mapping[str, Mapping[str, int]], *, method: str, store: str | None,
    moves_stock: bool, closed: Collection[str] = (),
) -> tuple[Placement, list[tuple[str, int]]]:
    """Where each line's units will be held after the edit, and the demand that was placed.

    Refuses with ``out_of_stock`` when the snapshot cannot cover the change, and with
    ``no_capacity`` when only locations in ``closed`` that the order does not use yet can.
    """
    order_sites = sorted({location for _line, location in held})
    line_of = {sku: line_id for line_id, sku in sku_of.items()}
    if moves_stock:
        # Everything is placed again; what the order holds counts as available to it.
        own = {sku: dict(levels) for sku, levels in stock.items()}
        for (line_id, location), quantity in held.items():
            levels = own.setdefault(sku_of[line_id], {})
            levels[location] = levels.get(location, 0) + quantity
        demand = [(sku_of[line_id], q) for line_id, q in target.items() if q > 0]
        proposal = await _propose(demand, method, store, own, order_sites, closed)
        return {(line_of[a.sku], a.location): a.quantity for a in proposal.allocations}, demand
    planned = dict(held)
    extra: list[tuple[str, int]] = []
    for line_id, wanted in target.items():
        have = sum(q for (i, _location), q in planned.items() if i == line_id)
        if wanted < have:  # give back from the last locations first
            surplus = have - wanted
            for key in sorted((k for k in planned if k[0] == line_id), key=lambda k: k[1],
                              reverse=True):
                take = min(surplus, planned[key])
                planned[key] -= take
                surplus -= take
        elif wanted > have:
            extra.append((sku_of[line_id], wanted - have))
    if extra:
        proposal = await _propose(extra, method, store, stock, order_sites, closed)
        for a in proposal.allocations:
            key = (line_of[a.sku], a.location)
            planned[key] = planned.get(key, 0) + a.quantity
    return planned, extra


def _per_level(placement: Placement, sku_of: Mapping[uuid.UUID, str]) -> dict[
    tuple[str, str], int
]:
    levels: dict[tuple[str, str], int] = {}
    for (line_id, location), quantity in placement.items():
        level = (sku_of[line_id], location)
        levels[level] = levels.get(level, 0) + quantity
    return levels


async def _write_allocations(
    session: AsyncSession, order: Order, allocations: Sequence[OrderAllocation],
    held: Placement, planned: Placement, sku_of: Mapping[uuid.UUID, str],
    removed: Sequence[OrderLine],
) -> list[OrderAllocation]:
    """Allocation rows follow the plan: rows the edit empties go, cancelled ones stay at 0."""
    removed_ids = {line.id for line in removed}
    by_key = {(a.line_id, a.location): a for a in allocations}
    kept: list[OrderAllocation] = []
    for key, allocation in by_key.items():
        if key in held or key in planned:
            allocation.quantity = planned.get(key, 0)
        if (allocation.quantity == 0 and key in held) or allocation.line_id in removed_ids:
            await session.delete(allocation)
        else:
            kept.append(allocation)
    added = [
        OrderAllocation(id=new_id(), order_id=order.id, line_id=line_id, sku=sku_of[line_id],
                        location=location, quantity=quantity, created_at=order.created_at)
        for (line_id, location), quantity in sorted(planned.items(), key=lambda kv: kv[0][1])
        if quantity > 0 and (line_id, location) not in by_key
    ]
    return [*kept, *added]


async def _placed_within_capacity(
    session: AsyncSession, order: Order, held: Placement, target: Mapping[uuid.UUID, int],
    sku_of: Mapping[uuid.UUID, str], stock: Mapping[str, Mapping[str, int]], *, method: str,
    store: str | None, moves_stock: bool,
) -> tuple[Placement, list[tuple[str, int]]]:
    """``_place``, for a routed order, within the locations' daily capacity: a location the
    edit gives work it did not have counts one order more today, counted and checked in one
    conditional write (one that filled meanwhile: placed again without it). An order
    waiting for capacity only holds its units: the waiting-order job routes it."""
    if Status.AWAITING_CAPACITY in (order.status, order.held_from):
        return await _place(held, target, sku_of, stock, method=method, store=store,
                            moves_stock=moves_stock)
    pickup = method == "pickup"
    closed = await routing.full_today(session, pickup=pickup)
    before = {location for _line, location in held}
    for _attempt in range(3):
        planned, demand = await _place(held, target, sku_of, stock, method=method,
                                       store=store, moves_stock=moves_stock, closed=closed)
        new = {location for (_line, location), q in planned.items() if q > 0} - before
        full = await routing.count_orders(session, await routing.claims_at(new, pickup=pickup))
        if not full:
            return planned, demand
        closed = {*closed, *full}
    raise NoCapacity("The locations that could take this change kept filling up; "
                     "send it again.", locations=sorted(closed))


async def edit(
    session: AsyncSession, number: str, data: EditIn, *, principal: Principal,
    if_match: str | None,
) -> OrderOut:
    """Change quantities, add or remove lines, change the delivery — until fulfillment starts.

    Stock follows, all or nothing: fewer units give back their reservations; more units or
    new lines are reserved (at the locations the order already uses when they can); a switch
    between shipping and pickup, or to another store, reserves everything again.
    """
    order = await service.find_order(session, number, principal, for_update=True)
    check_version(order, if_match, required=True)
    lifecycle.check_editable(order.status)
    if data.lines is None and data.delivery is None and data.note is None:
        raise InvalidInput("Nothing to change: send lines, delivery or note.",
                           code="nothing_to_change")
    lines, allocations = await service.lines_and_allocations(session, order.id)
    quantities, prices, added = _wanted_quantities(data.lines or [], lines)
    if sum(1 for line in lines if quantities.get(line.id, line.quantity) > 0) + len(added) == 0:
        raise InvalidInput("An order keeps at least one line; cancel it instead.",
                           code="no_lines")
    if len(lines) + len(added) > service.MAX_LINES:
        raise InvalidInput(f"An order has at most {service.MAX_LINES} lines.",
                           code="too_many_lines")
    delivery = await service.check_delivery(data.delivery) if data.delivery else None
    method = delivery.method if delivery else order.delivery_method
    store = delivery.location_code if delivery else order.pickup_location
    moves_stock = delivery is not None and (
        method != order.delivery_method or store != order.pickup_location)

    variants, stock = await inventory.variants_with_availability(
        session, [line.sku for line in lines] + [item.sku for item in added if item.sku])
    service.check_variants([item.sku for item in added if item.sku], variants)
    channel = await config.get_channel(order.channel)

    def price_of(item: EditLineIn) -> int:
        variant = variants[item.sku or ""]
        if channel is None:  # the channel was removed from configuration: the caller decides
            return item.unit_price if item.unit_price is not None else variant.price
        return service.unit_price_for(variant, item.unit_price, channel)

    first_position = max((line.position for line in lines), default=0) + 1
    new_lines = [
        OrderLine(id=new_id(), order_id=order.id, position=first_position + i, sku=item.sku,
                  name=variants[item.sku].name, quantity=item.quantity, cancelled_quantity=0,
                  unit_price=price_of(item), net=0, tax=0, total=0)
        for i, item in enumerate(added) if item.sku
    ]
    held: Placement = {(a.line_id, a.location): a.quantity for a in allocations if a.quantity}
    sku_of = {line.id: line.sku for line in [*lines, *new_lines]}
    target = {line.id: quantities.get(line.id, line.quantity) for line in lines}
    target.update({line.id: line.quantity for line in new_lines})
    planned, demand = await _placed_within_capacity(
        session, order, held, target, sku_of, stock, method=method, store=store,
        moves_stock=moves_stock)
    before, after = _per_level(held, sku_of), _per_level(planned, sku_of)
    changes = {level: after.get(level, 0) - before.get(level, 0)
               for level in set(before) | set(after)
               if after.get(level, 0) != before.get(level, 0)}
    await service.change_reservations(
        session, changes, demand=demand, method=method, store=store,
        preferred=sorted({location for _line, location in held}),
        held=before if moves_stock else None)

    # The rows: allocations first (lines they point to may go), then lines.
    removed = [line for line in lines if target[line.id] == 0 and line.cancelled_quantity == 0]
    current_allocations = await _write_allocations(session, order, allocations, held, planned,
                                                   sku_of, removed)
    await session.flush()
    for line in removed:
        await session.delete(line)
    session.add_all(new_lines)
    await session.flush()
    session.add_all([a for a in current_allocations if a not in allocations])

    change_data: dict[str, Any] = {"lines": [
        *({"sku": line.sku, "from": line.quantity, "to": target[line.id]} for line in lines
          if target[line.id] != line.quantity or line.id in prices),
        *({"sku": line.sku, "from": 0, "to": line.quantity} for line in new_lines),
    ]}
    kept_lines = [line for line in lines if line not in removed]
    for line in kept_lines:
        line.quantity = target[line.id]
        line.unit_price = prices.get(line.id, line.unit_price)
    all_lines = [*kept_lines, *new_lines]
    if delivery is not None:
        change_data["delivery"] = {
            "from": {"method": order.delivery_method, "location": order.pickup_location,
                     "address": order.ship_to},
            "to": {"method": delivery.method, "location": delivery.location_code,
                   "address": delivery.ship_to()},
        }
        order.delivery_method = delivery.method
        order.pickup_location = delivery.location_code
        order.ship_to = delivery.ship_to()
        order.vat_rate_bp = await config.vat_rate_bp(delivery.country)
    if data.note is not None:
        change_data["note"] = data.note
        order.note = data.note
    rates = channel.shipping_rates if channel is not None else []
    _retotal(order, all_lines,
             tax.shipping_fee(rates, order.delivery_method, service.goods_amount(all_lines)))
    _touch(order)
    change_data["reserved"], change_data["released"] = _reserved(changes), _released(changes)
    await _event(session, order, "order.edited", principal, change_data)
    await session.flush()
    return service.order_out(order, all_lines, current_allocations)
