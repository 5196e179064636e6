"""Routing orders: policy and locations from configuration, capacity from daily counts.

Order capture calls ``route`` with the availability snapshot it already read, counts the
order at each chosen location with a daily capacity (``count_orders``: the count and the
check in one conditional write, as a reservation is), reserves each allocation with the
conditional update, then calls ``record_decision`` in the same transaction. A count
refused because the location filled meanwhile is routed again on fresh counts.
``simulate`` routes a hypothetical order and reserves and counts nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy import Date, Integer, Select, String, Table, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.config import service as config
from comptoir.config.schemas import ChannelSafetyStockOut, LocationOut, RoutingPolicyOut
from comptoir.countries import country_code
from comptoir.db.base import new_id, utcnow
from comptoir.db.coalesce import Coalescer
from comptoir.db.engine import batch_engine, is_postgres, limits
from comptoir.errors import InvalidInput
from comptoir.inventory import service as inventory
from comptoir.routing import scoring
from comptoir.routing.models import DailyCount, RoutingDecision
from comptoir.routing.reasons import loaded, stored
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
    "DayClaim",
    "capacity_claims",
    "claims_at",
    "count_orders",
    "daily_capacity",
    "decision_rows",
    "decisions_for_order",
    "full_today",
    "local_day",
    "policy_view",
    "record_decision",
    "route",
    "routed_today",
    "routed_today_together",
    "scoring_policy",
    "simulate",
]

# A decision stored for an order keeps its best-ranked candidates (the chosen ones, then the
# others by score): enough to explain it without hundreds of rows of JSON per order.
MAX_STORED_CANDIDATES = 25
MAX_LINES = 200
MAX_QUANTITY = 100_000_000
_DECISIONS: Table = RoutingDecision.__table__  # type: ignore[assignment]
_COUNTS: Table = DailyCount.__table__  # type: ignore[assignment]


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


def _days(locations: Iterable[LocationOut], now: dt.datetime) -> dict[str, dt.date]:
    """Each location's own calendar day at ``now``."""
    by_zone: dict[str, dt.date] = {}
    days = {}
    for loc in locations:
        if loc.timezone not in by_zone:
            by_zone[loc.timezone] = local_day(loc.timezone, now)
        days[loc.code] = by_zone[loc.timezone]
    return days


def _counts_query(codes: list[str], local_days: list[dt.date], *, postgres: bool) -> Select[Any]:
    table = _COUNTS.c  # Core columns: this runs at every capture
    if postgres:
        # One statement text whatever the number of locations, so PostgreSQL reuses its
        # prepared statement instead of preparing a new one for each length of the list.
        where = (table.location == any_(bindparam("codes", codes, ARRAY(String))),
                 table.local_day == any_(bindparam("days", local_days, ARRAY(Date))))
    else:
        where = (table.location.in_(codes), table.local_day.in_(local_days))
    return select(table.location, table.local_day, table.routed).where(*where)


def _today(days: Mapping[str, dt.date], rows: Iterable[Any]) -> dict[str, int]:
    out = dict.fromkeys(days, 0)
    for location, day, routed in rows:
        if days.get(location) == day:
            out[location] = int(routed)
    return out


async def routed_today(
    session: AsyncSession, locations: Iterable[LocationOut], *, now: dt.datetime | None = None
) -> dict[str, int]:
    """Orders routed to each location so far on its own calendar day (one query)."""
    days = _days(locations, now or utcnow())
    if not days:
        return {}
    rows = await session.execute(_counts_query(
        sorted(days), sorted(set(days.values())), postgres=is_postgres(session)))
    return _today(days, rows)


_Days = dict[str, dt.date]
_read_together: weakref.WeakKeyDictionary[AsyncEngine, Coalescer[_Days, list[Any]]]
_read_together = weakref.WeakKeyDictionary()


async def routed_today_together(
    engine: AsyncEngine, locations: Iterable[LocationOut], *, now: dt.datetime | None = None
) -> dict[str, int]:
    """``routed_today`` (PostgreSQL), read with the other captures of this process that ask
    at the same moment: one query, on a connection of the batch engine held for that query
    only (as ``inventory.variants_with_availability_together``). It starts after the call:
    as fresh as a read of its own. ``Saturated`` when too many wait already."""
    days = _days(locations, now or utcnow())
    if not days:
        return {}
    coalescer = _read_together.get(engine)
    if coalescer is None:
        reader = batch_engine(engine)

        async def read(asked: Sequence[_Days]) -> list[list[Any]]:
            codes = sorted({code for days in asked for code in days})
            local_days = sorted({day for days in asked for day in days.values()})
            async with reader.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                rows = (await connection.execute(
                    _counts_query(codes, local_days, postgres=True))).all()
            return [list(rows)] * len(asked)

        bounds = limits(engine)
        coalescer = _read_together[engine] = Coalescer(
            read, limit=64, max_waiting=bounds.max_waiting_captures,
            max_wait=bounds.queue_timeout)
    return _today(days, await coalescer.submit(days))


@dataclass(frozen=True, slots=True)
class DayClaim:
    """One order to count at a location with a daily capacity, on that location's day.
    ``capacity`` None: counted without a check (a pickup, when the policy does not apply
    capacity to pickups: it still takes a slot of the store's day)."""

    location: str
    local_day: dt.date
    capacity: int | None


async def claims_at(
    locations: Iterable[str], *, pickup: bool = False, now: dt.datetime | None = None
) -> list[DayClaim]:
    """One order counted at each of ``locations`` that has a daily capacity, on its day."""
    now = now or utcnow()
    policy = await config.routing_policy()
    enforced = not pickup or policy.capacity_applies_to_pickups
    claims = []
    for code in sorted(set(locations)):
        location = await config.get_location(code)
        capacity = daily_capacity(location, policy) if location is not None else None
        if location is not None and capacity is not None:
            claims.append(DayClaim(code, local_day(location.timezone, now),
                                   capacity if enforced else None))
    return claims


async def capacity_claims(
    decision: scoring.Decision, *, now: dt.datetime | None = None
) -> list[DayClaim]:
    """What routing ``decision`` takes from the locations' daily capacity: one order at each
    chosen location that has a limit (nothing for an order that is not routed)."""
    if not decision.routed or not decision.allocations:
        return []
    return await claims_at(decision.locations, pickup=decision.method == "pickup", now=now)


# The count and the check in one write: a location's day gets its first order, or one more
# while it has room. Nothing is written (no row comes back) when it is full.
_COUNT_ONE = text("""
    INSERT INTO routing_daily_counts (location, local_day, routed, capacity)
    SELECT :location, :local_day, 1, :capacity WHERE :capacity IS NULL OR :capacity >= 1
    ON CONFLICT (location, local_day) DO UPDATE
    SET routed = routing_daily_counts.routed + 1,
        capacity = coalesce(excluded.capacity, routing_daily_counts.capacity)
    WHERE excluded.capacity IS NULL OR routing_daily_counts.routed < excluded.capacity
    RETURNING routed
""").bindparams(bindparam("location", type_=String()), bindparam("local_day", type_=Date()),
                bindparam("capacity", type_=Integer()))

_UNCOUNT_ONE = text("""
    UPDATE routing_daily_counts SET routed = routed - 1
    WHERE location = :location AND local_day = :local_day AND routed > 0
""").bindparams(bindparam("location", type_=String()), bindparam("local_day", type_=Date()))


async def count_orders(session: AsyncSession, claims: Iterable[DayClaim]) -> list[str]:
    """Count an order at every location of ``claims``, all or nothing: the locations that
    were full (then nothing is counted); empty when all took it.

    Each count is the conditional write: no read-then-write race, on SQLite and PostgreSQL
    alike. Days are counted in (location, day) order, so two transactions never wait for
    each other in opposite orders. A caller told "full" routes again on fresh counts.
    """
    counted: list[DayClaim] = []
    for claim in sorted(claims, key=lambda c: (c.location, c.local_day)):
        row = (await session.execute(_COUNT_ONE, {
            "location": claim.location, "local_day": claim.local_day,
            "capacity": claim.capacity})).first()
        if row is None:
            # This transaction holds the days it counted: taking the counts back is safe.
            for done in counted:
                await session.execute(_UNCOUNT_ONE, {"location": done.location,
                                                     "local_day": done.local_day})
            return [claim.location]
        counted.append(claim)
    return []


async def full_today(
    session: AsyncSession, *, pickup: bool = False, now: dt.datetime | None = None
) -> set[str]:
    """The locations that may take no more orders today (for a pickup: none, unless the
    policy applies capacity to pickups)."""
    policy = await config.routing_policy()
    if pickup and not policy.capacity_applies_to_pickups:
        return set()
    locations = await config.list_locations()
    limited = {loc.code: capacity for loc in locations
               if (capacity := daily_capacity(loc, policy)) is not None}
    if not limited:
        return set()
    counts = await routed_today(session, [loc for loc in locations if loc.code in limited],
                                now=now)
    return {code for code, capacity in limited.items() if counts.get(code, 0) >= capacity}


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
    wait: bool = True,
    limits_taken: bool = False,
    together: AsyncEngine | None = None,
) -> scoring.Decision:
    """Decide where ``lines`` are served under the configured policy. Reserves nothing.

    ``stock`` is ``{sku: {location: available}}`` when the caller has read it already (as
    capture does); otherwise it is read here. At most one more query: today's orders at the
    locations with a daily capacity that could be chosen. ``listed``: how many candidates
    the decision describes (None: all). ``wait``: an order only capacity keeps from being
    routed waits for it (``scoring.route_or_wait``) rather than being refused.
    ``limits_taken``: every location with a daily capacity counts as full (a capture that
    lost the race for their last slots several times in a row routes without them, or
    waits). ``together``: read the counts with the other captures of the moment, on that
    engine, not in the session (``routed_today_together``).
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
        if limits_taken:
            counts = {loc.code: candidates[loc.code].daily_capacity or 0 for loc in limited}
        elif together is not None:
            counts = await routed_today_together(together, limited, now=now)
        else:
            counts = await routed_today(session, limited, now=now)
        busy = {code: n for code, n in counts.items() if n}
        if busy or limits_taken:
            candidates = dict(candidates)
            for code, n in counts.items():
                candidates[code] = candidates[code].after_orders(n)
    decide = scoring.route_or_wait if wait else scoring.route
    return decide(lines, delivery, candidates.values(), stock, network.policy,
                  channel=channel, listed=listed)


def decision_rows(
    decision: scoring.Decision, *, order_number: str = "", now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The row that stores a decision. ``order_number`` may be left for the caller's SQL to
    fill in."""
    now = now or utcnow()
    listed = [
        {"code": c.code, "kind": c.kind, "outcome": c.outcome, "reason": c.reason,
         "distance_km": c.distance_km, "distance_points": c.distance_points,
         "shipping_cost_points": c.shipping_cost_points, "priority_points": c.priority_points,
         "score": c.score, "lines_in_full": c.lines_in_full,
         "explanation": stored(c.explanation)}
        for c in decision.candidates[:MAX_STORED_CANDIDATES]
    ]
    return dict(
        id=new_id(), order_number=order_number, created_at=now, method=decision.method,
        channel=decision.channel, routed=decision.routed,
        deciding_factor=decision.deciding_factor, reason=decision.reason,
        explanation=stored(decision.explanation),
        destination=decision.destination, score=decision.score,
        allocations=[{"location": a.location, "sku": a.sku, "quantity": a.quantity}
                     for a in decision.allocations],
        shortages=[{"sku": s.sku, "requested": s.requested, "available": s.available}
                   for s in decision.shortages],
        candidates=listed,
        candidates_left_out=decision.not_listed + len(decision.candidates) - len(listed),
        without_stock=decision.without_stock,
    )


async def record_decision(
    session: AsyncSession, order_number: str, decision: scoring.Decision, *,
    now: dt.datetime | None = None, counted: bool = False,
) -> list[str]:
    """Take the decision's share of daily capacity (``count_orders``) and store it, in the
    caller's transaction; the locations found full (then nothing is stored and the caller
    routes again). ``counted``: the caller counted it already."""
    if not counted:
        full = await count_orders(session, await capacity_claims(decision, now=now))
        if full:
            return full
    await session.execute(_DECISIONS.insert().values(
        **decision_rows(decision, order_number=order_number, now=now)))
    return []


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
            awaiting_capacity=scoring.awaits_capacity(row.routed, row.deciding_factor),
            reason=row.reason, deciding_factor=row.deciding_factor, method=row.method,
            channel=row.channel,
            locations=sorted({a.location for a in allocations}),
            allocations=allocations,
            shortages=msgspec.convert(row.shortages, list[ShortageOut]),
            candidates=msgspec.convert(row.candidates, list[CandidateOut]),
            without_stock=row.without_stock, not_listed=row.candidates_left_out,
            destination=row.destination, score=row.score, explanation=loaded(row.explanation),
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
