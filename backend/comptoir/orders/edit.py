"""Editing an order until fulfillment starts: quantities, lines, the delivery, the note.

Stock follows, all or nothing, where the routing policy says (``placement``): fewer units
give back their reservations; more units, new lines or another delivery are routed as at
capture, and the decision is stored with the order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.config import service as config
from comptoir.db.base import new_id
from comptoir.errors import InvalidInput
from comptoir.events.types import EventType
from comptoir.inventory import service as inventory
from comptoir.orders import lifecycle, service, tax
from comptoir.orders.actions import check_version, find_line, order_event, retotal, touch
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.placement import Placement, Wanted, per_level, place, write_allocations
from comptoir.orders.pricing import line_rate
from comptoir.orders.reservations import change_reservations, released, reserved
from comptoir.orders.schemas import EditIn, EditLineIn, OrderOut

__all__ = ["edit"]


def _wanted_quantities(
    items: Sequence[EditLineIn], lines: Sequence[OrderLine]
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int], list[EditLineIn]]:
    """New quantities and prices of existing lines, and the lines to add."""
    quantities: dict[uuid.UUID, int] = {}
    prices: dict[uuid.UUID, int] = {}
    added: list[EditLineIn] = []
    for item in items:
        line = find_line(item, lines)
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


async def _country_of(order: Order) -> str:
    """The country whose VAT an order pays: its address's, or its pickup store's."""
    if order.delivery_method == "pickup":
        store = await config.get_location(order.pickup_location or "")
        return store.country.upper() if store is not None else ""
    return str((order.ship_to or {}).get("country") or "").upper()


async def edit(
    session: AsyncSession, number: str, data: EditIn, *, principal: Principal,
    if_match: str | None,
) -> OrderOut:
    """Change quantities, add or remove lines, change the delivery — until fulfillment starts.

    Stock follows, all or nothing: fewer units give back their reservations; more units,
    new lines or another delivery are routed by the routing policy (``placement.place``: the
    locations the order already uses when the policy lets them take it all, else the whole
    order again), the decision stored with the order.
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
    # New lines take their SKU's tax class's rate in the delivery country; a new delivery
    # re-rates every line (as it re-rates shipping), else a line keeps the rate it has.
    country = delivery.country if delivery is not None else await _country_of(order)
    vat_rates = await config.vat_rates(country)

    def rate_of(sku: str) -> int:
        return line_rate(vat_rates, variants[sku].tax_class, sku, country)

    new_rates = {line.id: rate_of(line.sku) for line in lines
                 if delivery is not None and line.sku in variants
                 and quantities.get(line.id, line.quantity) > 0}

    def price_of(item: EditLineIn) -> int:
        variant = variants[item.sku or ""]
        if channel is None:  # the channel was removed from configuration: the caller decides
            return item.unit_price if item.unit_price is not None else variant.price
        return service.unit_price_for(variant, item.unit_price, channel)

    first_position = max((line.position for line in lines), default=0) + 1
    new_lines = [
        OrderLine(id=new_id(), order_id=order.id, position=first_position + i, sku=item.sku,
                  name=variants[item.sku].name, quantity=item.quantity, cancelled_quantity=0,
                  unit_price=price_of(item), vat_rate_bp=rate_of(item.sku), net=0, tax=0,
                  total=0)
        for i, item in enumerate(added) if item.sku
    ]
    held: Placement = {(a.line_id, a.location): a.quantity for a in allocations if a.quantity}
    sku_of = {line.id: line.sku for line in [*lines, *new_lines]}
    target = {line.id: quantities.get(line.id, line.quantity) for line in lines}
    target.update({line.id: line.quantity for line in new_lines})
    delivery_to = (delivery.for_routing() if delivery is not None else
                   service.routing_delivery(order.delivery_method, order.pickup_location,
                                            order.ship_to))
    planned, demand = await place(session, order, held, Wanted(target, sku_of, delivery_to,
                                                               moves_stock), stock)
    before, after = per_level(held, sku_of), per_level(planned, sku_of)
    changes = {level: after.get(level, 0) - before.get(level, 0)
               for level in set(before) | set(after)
               if after.get(level, 0) != before.get(level, 0)}
    await change_reservations(session, changes, demand=demand,
                              held=before if moves_stock else None)

    # The rows: allocations first (lines they point to may go), then lines.
    removed = [line for line in lines if target[line.id] == 0 and line.cancelled_quantity == 0]
    current_allocations = await write_allocations(session, order, allocations, held, planned,
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
        line.vat_rate_bp = new_rates.get(line.id, line.vat_rate_bp)
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
        order.vat_rate_bp = vat_rates["standard"]
    if data.note is not None:
        change_data["note"] = data.note
        order.note = data.note
    rates = channel.shipping_rates if channel is not None else []
    retotal(order, all_lines,
             tax.shipping_fee(rates, order.delivery_method, service.goods_amount(all_lines)))
    touch(order)
    change_data["reserved"], change_data["released"] = reserved(changes), released(changes)
    await order_event(session, order, EventType.ORDER_EDITED, principal, change_data)
    await session.flush()
    return service.order_out(order, all_lines, current_allocations)
