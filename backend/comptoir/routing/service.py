"""Routing orders: policy and locations from configuration, capacity from stored decisions.

Order capture calls ``route`` with the availability snapshot it already read, reserves each
allocation with the conditional update, then calls ``record_decision`` in the same
transaction. ``simulate`` does the same on a hypothetical order and reserves nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy import Date, String, Table, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.config import service as config
from comptoir.config.schemas import ChannelSafetyStockOut, LocationOut, RoutingPolicyOut
from comptoir.countries import country_code
from comptoir.db.base import new_id, utcnow
from comptoir.db.engine import is_postgres
from comptoir.errors import InvalidInput
from comptoir.inventory import service as inventory
from comptoir.routing import scoring
from comptoir.routing.models import RoutingAssignment, RoutingDecision
from comptoir.routing.schemas import (
    AllocationOut,
    CandidateOut,
    DecisionOut,
    LocationRoutingOut,
    PolicyOut,
    ShortageOut,
    SimulateIn,
    StoredDecisionOut,
    decision_out,
)

__all__ = [
    "MAX_STORED_CANDIDATES",
    "daily_capacity",
    "decision_rows",
    "decisions_for_order",
    "local_day",
    "policy_view",
    "record_decision",
    "route",
    "routed_today",
    "scoring_policy",
    "simulate",
]

# A decision stored for an order keeps its best-ranked candidates (the chosen ones, then the
# others by score): enough to explain it without hundreds of rows of JSON per order.
MAX_STORED_CANDIDATES = 25
MAX_LINES = 200
MAX_QUANTITY = 100_000_000
_DECISIONS: Table = RoutingDecision.__table__  # type: ignore[assignment]
_ASSIGNMENTS: Table = RoutingAssignment.__table__  # type: ignore[assignment]


# --- configuration as routing sees it -------------------------------------------------------


def daily_capacity(location: LocationOut, policy: RoutingPolicyOut) -> int | None:
    """Orders a location takes a day: its own figure, else the policy's for stores; None: no
    limit."""
    if location.daily_order_capacity is not None:
        return max(0, location.daily_order_capacity)
    if location.kind == "store" and policy.default_store_capacity is not None:
        return max(0, policy.default_store_capacity)
    return None


def scoring_policy(row: RoutingPolicyOut, *, channel: str | None = None,
                   safety_everywhere: int = 0) -> scoring.Policy:
    return scoring.Policy(
        distance_weight=max(0.0, row.distance_weight),
        shipping_cost_weight=max(0.0, row.shipping_cost_weight),
        priority_weight=max(0.0, row.priority_weight),
        split_penalty=max(0.0, row.split_penalty),
        max_splits=max(1, row.max_splits),
        stores_may_ship=row.stores_may_ship,
        capacity_applies_to_pickups=row.capacity_applies_to_pickups,
        safety_stock={channel: safety_everywhere} if channel and safety_everywhere else {},
    )


@lru_cache(maxsize=64)
def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def local_day(timezone: str, now: dt.datetime) -> dt.date:
    """The calendar day at a location whose time zone is ``timezone``."""
    return now.astimezone(_zone(timezone or "UTC")).date()


async def routed_today(
    session: AsyncSession, locations: Iterable[LocationOut], *, now: dt.datetime | None = None
) -> dict[str, int]:
    """Orders routed to each location so far on its own calendar day (one query)."""
    now = now or utcnow()
    by_zone: dict[str, dt.date] = {}
    days = {}
    for loc in locations:
        if loc.timezone not in by_zone:
            by_zone[loc.timezone] = local_day(loc.timezone, now)
        days[loc.code] = by_zone[loc.timezone]
    if not days:
        return {}
    codes, local_days = sorted(days), sorted(set(days.values()))
    table = _ASSIGNMENTS.c  # Core columns: this runs at every capture
    if is_postgres(session):
        # One statement text whatever the number of locations, so PostgreSQL reuses its
        # prepared statement instead of preparing a new one for each length of the list.
        where = (table.location == any_(bindparam("codes", codes, ARRAY(String))),
                 table.local_day == any_(bindparam("days", local_days, ARRAY(Date))))
    else:
        where = (table.location.in_(codes), table.local_day.in_(local_days))
    rows = await session.execute(
        select(table.location, table.local_day, func.count())
        .where(*where)
        .group_by(table.location, table.local_day)
    )
    out = dict.fromkeys(days, 0)
    for location, day, count in rows:
        if days.get(location) == day:
            out[location] = int(count)
    return out


def _candidate(
    location: LocationOut, capacity: int | None, channel: str | None,
    safety_here: Mapping[str, int],
) -> scoring.Candidate:
    held = safety_here.get(location.code)
    return scoring.Candidate(
        code=location.code, kind=location.kind, latitude=location.latitude,
        longitude=location.longitude, ships=location.ships,
        serves_pickups=location.serves_pickups, active=location.active,
        priority=location.routing_priority, shipping_cost=location.shipping_cost,
        daily_capacity=capacity, capacity_left=capacity,
        safety_stock={channel: held} if channel is not None and held is not None else {},
    )


@dataclass(frozen=True, slots=True)
class _Network:
    """The locations as the scorer sees them for one channel, before today's orders."""

    locations: tuple[LocationOut, ...]
    policy_row: RoutingPolicyOut
    safety: tuple[int, dict[str, int]]
    policy: scoring.Policy
    candidates: dict[str, scoring.Candidate]
    limited: dict[str, LocationOut]  # locations with a daily capacity


# Rebuilt only when the configuration snapshot changes: hundreds of locations per capture
# otherwise cost more than the scoring itself.
_networks: dict[str | None, _Network] = {}


def _network(
    locations: Sequence[LocationOut], row: RoutingPolicyOut, channel: str | None,
    safety: tuple[int, dict[str, int]],
) -> _Network:
    cached = _networks.get(channel)
    # The configuration cache rebuilds every location when it reloads: the same first
    # object means the same snapshot.
    if (cached is not None and cached.policy_row is row and cached.safety == safety
            and len(cached.locations) == len(locations)
            and (not locations or cached.locations[0] is locations[0])):
        return cached
    capacities = {loc.code: daily_capacity(loc, row) for loc in locations}
    network = _Network(
        tuple(locations), row, safety,
        scoring_policy(row, channel=channel, safety_everywhere=safety[0]),
        {loc.code: _candidate(loc, capacities[loc.code], channel, safety[1])
         for loc in locations},
        {loc.code: loc for loc in locations if capacities[loc.code] is not None},
    )
    if len(_networks) > 32:
        _networks.clear()
    _networks[channel] = network
    return network


# --- routing --------------------------------------------------------------------------------


async def route(
    session: AsyncSession,
    lines: Sequence[tuple[str, int]],
    delivery: scoring.Delivery,
    *,
    channel: str | None,
    stock: Mapping[str, Mapping[str, int]] | None = None,
    now: dt.datetime | None = None,
    listed: int | None = MAX_STORED_CANDIDATES,
) -> scoring.Decision:
    """Decide where ``lines`` are served under the configured policy. Reserves nothing.

    ``stock`` is ``{sku: {location: available}}`` when the caller has read it already (as
    capture does); otherwise it is read here. At most one more query: today's orders at the
    locations with a daily capacity that could be chosen. ``listed``: how many candidates
    the decision describes (None: all).
    """
    skus = list(dict.fromkeys(sku for sku, _q in lines))
    if stock is None:
        stock = await inventory.availability(session, skus)
    row = await config.routing_policy()
    safety = await config.channel_safety_stock(channel) if channel else (0, {})
    network = _network(await config.list_locations(), row, channel, safety)
    if delivery.method == "pickup":
        relevant: Collection[str] = ({delivery.store} if delivery.store
                                     and row.capacity_applies_to_pickups else set())
    else:
        relevant = {code for sku in skus for code, n in stock.get(sku, {}).items() if n > 0}
    limited = [network.limited[code] for code in relevant if code in network.limited]
    candidates = network.candidates
    if limited:
        counts = await routed_today(session, limited, now=now)
        busy = {code: n for code, n in counts.items() if n}
        if busy:
            candidates = dict(candidates)
            for code, n in busy.items():
                candidates[code] = candidates[code].after_orders(n)
    return scoring.route(lines, delivery, candidates.values(), stock, network.policy,
                         channel=channel, listed=listed)


async def decision_rows(
    decision: scoring.Decision, *, order_number: str = "", now: dt.datetime | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The rows that store a decision: the decision itself, and one assignment per location
    it sent the order to (each counts one order against that location's capacity for its
    own day). ``order_number`` may be left for the caller's SQL to fill in."""
    now = now or utcnow()
    decision_id = new_id()
    listed = [
        {"code": c.code, "kind": c.kind, "outcome": c.outcome, "reason": c.reason,
         "distance_km": c.distance_km, "distance_points": c.distance_points,
         "shipping_cost_points": c.shipping_cost_points, "priority_points": c.priority_points,
         "score": c.score, "lines_in_full": c.lines_in_full}
        for c in decision.candidates[:MAX_STORED_CANDIDATES]
    ]
    row: dict[str, Any] = dict(
        id=decision_id, order_number=order_number, created_at=now, method=decision.method,
        channel=decision.channel, routed=decision.routed,
        deciding_factor=decision.deciding_factor, reason=decision.reason,
        destination=decision.destination, score=decision.score,
        allocations=[{"location": a.location, "sku": a.sku, "quantity": a.quantity}
                     for a in decision.allocations],
        shortages=[{"sku": s.sku, "requested": s.requested, "available": s.available}
                   for s in decision.shortages],
        candidates=listed,
        candidates_left_out=decision.not_listed + len(decision.candidates) - len(listed),
        without_stock=decision.without_stock,
    )
    assignments = []
    if decision.routed and decision.allocations:
        for code in decision.locations:
            location = await config.get_location(code)
            timezone = location.timezone if location is not None else "UTC"
            assignments.append({"id": new_id(), "decision_id": decision_id, "location": code,
                                "local_day": local_day(timezone, now)})
    return row, assignments


async def record_decision(
    session: AsyncSession, order_number: str, decision: scoring.Decision, *,
    now: dt.datetime | None = None,
) -> None:
    """Store a decision for an order (in the caller's transaction): two INSERTs at most."""
    row, assignments = await decision_rows(decision, order_number=order_number, now=now)
    await session.execute(_DECISIONS.insert().values(**row))
    if assignments:
        await session.execute(_ASSIGNMENTS.insert(), assignments)


async def decisions_for_order(session: AsyncSession, order_number: str) -> list[StoredDecisionOut]:
    """An order's routing decisions, oldest first (a re-routed order has several)."""
    rows = await session.scalars(
        select(RoutingDecision).where(RoutingDecision.order_number == order_number)
        .order_by(RoutingDecision.created_at, RoutingDecision.id)
    )
    out = []
    for row in rows:
        allocations = msgspec.convert(row.allocations, list[AllocationOut])
        out.append(StoredDecisionOut(
            order_number=row.order_number, created_at=row.created_at, routed=row.routed,
            reason=row.reason, deciding_factor=row.deciding_factor, method=row.method,
            channel=row.channel,
            locations=sorted({a.location for a in allocations}),
            allocations=allocations,
            shortages=msgspec.convert(row.shortages, list[ShortageOut]),
            candidates=msgspec.convert(row.candidates, list[CandidateOut]),
            without_stock=row.without_stock, not_listed=row.candidates_left_out,
            destination=row.destination, score=row.score,
        ))
    return out


# --- simulation and the policy view ---------------------------------------------------------


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
