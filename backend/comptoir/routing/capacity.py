"""Daily capacity: each location's calendar day, the orders routed there today, and the count
and the check of one more order in one conditional write (as a reservation is).

A caller told "full" by ``count_orders`` routes again on fresh counts.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Date, Integer, Select, String, Table, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.config import service as config
from comptoir.config.schemas import LocationOut, RoutingPolicyOut
from comptoir.db.base import utcnow
from comptoir.db.coalesce import Coalescer
from comptoir.db.dialect import Dialect, dialect_of
from comptoir.db.engine import batch_engine, limits
from comptoir.routing import scoring
from comptoir.routing.models import DailyCount

__all__ = [
    "DayClaim",
    "capacity_claims",
    "claims_at",
    "count_orders",
    "daily_capacity",
    "full_today",
    "local_day",
    "routed_today",
    "routed_today_together",
]

_COUNTS: Table = DailyCount.__table__  # type: ignore[assignment]


def daily_capacity(location: LocationOut, policy: RoutingPolicyOut) -> int | None:
    """Orders a location takes a day: its own figure, else the policy's for stores; None: no
    limit."""
    if location.daily_order_capacity is not None:
        return max(0, location.daily_order_capacity)
    if location.kind == "store" and policy.default_store_capacity is not None:
        return max(0, policy.default_store_capacity)
    return None


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


def _counts_query(codes: list[str], local_days: list[dt.date], dialect: Dialect) -> Select[Any]:
    table = _COUNTS.c  # Core columns: this runs at every capture
    # One statement text whatever the number of locations where the dialect allows it, so
    # PostgreSQL reuses its prepared statement instead of preparing one per length of list.
    return select(table.location, table.local_day, table.routed).where(
        dialect.one_of(table.location, "codes", codes, String()),
        dialect.one_of(table.local_day, "days", local_days, Date()))


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
        sorted(days), sorted(set(days.values())), dialect_of(session)))
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
                    _counts_query(codes, local_days, dialect_of(connection)))).all()
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


