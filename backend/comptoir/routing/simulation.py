"""The policy tried on a hypothetical order (nothing reserved or counted), and the policy in
force with each location's capacity left today."""

from __future__ import annotations

import math

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.config import service as config
from comptoir.config.schemas import ChannelSafetyStockOut
from comptoir.countries import country_code
from comptoir.errors import InvalidInput
from comptoir.inventory import service as inventory
from comptoir.routing import scoring
from comptoir.routing.capacity import daily_capacity, routed_today
from comptoir.routing.schemas import (
    DecisionOut,
    LocationRoutingOut,
    PolicyOut,
    SimulateIn,
    decision_out,
)
from comptoir.routing.service import route

__all__ = ["policy_view", "simulate"]

MAX_LINES = 200
MAX_QUANTITY = 100_000_000


def _check_simulation(data: SimulateIn) -> tuple[list[tuple[str, int]], scoring.Delivery]:
    if not data.lines:
        raise InvalidInput("A simulated order needs at least one line.", code="lines_required")
    if len(data.lines) > MAX_LINES:
        raise InvalidInput(f"At most {MAX_LINES} lines.", code="too_many_lines")
    for line in data.lines:
        if line.quantity < 1:
            raise InvalidInput(f"{line.sku}: a quantity of {line.quantity} is not an order; "
                               "at least 1.", code="invalid_quantity", sku=line.sku)
        if line.quantity > MAX_QUANTITY:
            raise InvalidInput(f"{line.sku}: {line.quantity} units is more than one line may "
                               f"hold ({MAX_QUANTITY}).", code="quantity_too_large",
                               sku=line.sku)
    delivery = data.delivery
    if delivery.method == "pickup":
        if not delivery.location:
            raise InvalidInput("A pickup names its store ('delivery.location').",
                               code="location_required")
        return [(line.sku, line.quantity) for line in data.lines], scoring.Delivery(
            "pickup", store=delivery.location)
    if delivery.method != "ship":
        raise InvalidInput(f"Unknown delivery method '{delivery.method}': ship or pickup.",
                           code="unknown_delivery_method")
    address = delivery.address
    if address is None:
        raise InvalidInput("A shipped order needs a delivery address ('delivery.address').",
                           code="address_required")
    country = country_code(address.country)
    has_point = address.latitude is not None or address.longitude is not None
    if has_point and not (
        address.latitude is not None and address.longitude is not None
        and math.isfinite(address.latitude) and math.isfinite(address.longitude)
        and -90 <= address.latitude <= 90 and -180 <= address.longitude <= 180
    ):
        raise InvalidInput("Coordinates are a latitude between -90 and 90 and a longitude "
                           "between -180 and 180, both or neither.", code="invalid_coordinates")
    if not has_point and not (address.postal_code or "").strip():
        raise InvalidInput("The delivery address needs a postal code or coordinates.",
                           code="incomplete_address", field="postal_code")
    return [(line.sku, line.quantity) for line in data.lines], scoring.Delivery(
        "ship", latitude=address.latitude, longitude=address.longitude,
        postal_code=(address.postal_code or "").strip() or None, country=country)


async def simulate(session: AsyncSession, data: SimulateIn) -> DecisionOut:
    """Route a hypothetical order against current availability; nothing is reserved."""
    lines, delivery = _check_simulation(data)
    if data.channel is not None and await config.get_channel(data.channel) is None:
        raise InvalidInput(f"Unknown sales channel '{data.channel}'.", code="unknown_channel")
    if delivery.store is not None and await config.get_location(delivery.store) is None:
        raise InvalidInput(f"Unknown location '{delivery.store}'.", code="unknown_location")
    skus = list(dict.fromkeys(sku for sku, _q in lines))
    variants, stock = await inventory.variants_with_availability(session, skus)
    unknown = [sku for sku in skus if sku not in variants]
    if unknown:
        raise InvalidInput(f"Unknown SKU {', '.join(repr(s) for s in unknown)}.",
                           code="unknown_sku", skus=unknown)
    decision = await route(session, lines, delivery, channel=data.channel, stock=stock,
                           listed=None)
    return decision_out(decision)


async def policy_view(session: AsyncSession) -> PolicyOut:
    """The policy in force, its channel safety stock, and each location's capacity today."""
    row = await config.routing_policy()
    locations = await config.list_locations()
    capacities = {loc.code: daily_capacity(loc, row) for loc in locations}
    counts = await routed_today(session, [loc for loc in locations
                                          if capacities[loc.code] is not None])
    rules = []
    for channel in await config.list_channels():
        everywhere, here = await config.channel_safety_stock(channel.code)
        if everywhere:
            rules.append(ChannelSafetyStockOut(channel=channel.code, location=None,
                                                      units=everywhere))
        rules.extend(ChannelSafetyStockOut(channel=channel.code, location=code,
                                                  units=units)
                     for code, units in sorted(here.items()))
    return PolicyOut(
        **msgspec.structs.asdict(row),
        channel_safety_stock=rules,
        locations=[
            LocationRoutingOut(
                code=loc.code, kind=loc.kind, active=loc.active, ships=loc.ships,
                serves_pickups=loc.serves_pickups, priority=loc.routing_priority,
                shipping_cost=loc.shipping_cost, daily_capacity=capacities[loc.code],
                routed_today=counts.get(loc.code, 0),
                capacity_left=(None if capacities[loc.code] is None
                               else max(0, (capacities[loc.code] or 0)
                                        - counts.get(loc.code, 0))),
            )
            for loc in locations
        ],
    )
