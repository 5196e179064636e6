"""Routing orders: policy and locations from configuration, capacity from daily counts.

Order capture calls ``route`` with the availability snapshot it already read, counts the
order at each chosen location with a daily capacity (``count_orders``: the count and the
check in one conditional write, as a reservation is), reserves each allocation with the
conditional update, then calls ``record_decision`` in the same transaction. A count
refused because the location filled meanwhile is routed again on fresh counts. Edits and
rejections route through ``routing.replanning`` on top of ``route``.
``simulation.simulate`` routes a hypothetical order and reserves and counts nothing.

Daily counts live in ``routing.capacity``, stored decisions in ``routing.decisions``; their
public names are re-exported here for the modules that use ``routing.service`` as one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.config import service as config
from comptoir.config.schemas import LocationOut, RoutingPolicyOut
from comptoir.inventory import service as inventory
from comptoir.routing import scoring
from comptoir.routing.capacity import (
    DayClaim,
    capacity_claims,
    claims_at,
    count_orders,
    daily_capacity,
    full_today,
    local_day,
    routed_today,
    routed_today_together,
)
from comptoir.routing.decisions import (
    MAX_STORED_CANDIDATES,
    decision_rows,
    decisions_for_order,
    record_decision,
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
    "record_decision",
    "route",
    "routed_today",
    "routed_today_together",
    "scoring_policy",
]


# --- configuration as routing sees it -------------------------------------------------------


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
    only: Collection[str] | None = None,
    excluded: Collection[str] = (),
    counted: Collection[str] = (),
    capacity: bool = True,
    max_splits: int | None = None,
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

    For an order that already holds units (``routing.replanning``): ``only`` the locations
    named may serve, ``excluded`` ones may not (a store that rejected the units), and the
    daily capacity of those ``counted`` (where the order is counted already) does not bind;
    ``capacity`` False: no daily limit binds at all (an order waiting for capacity).
    ``max_splits``: the most locations these lines may go to, when fewer than the policy's
    (the order uses some already).
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
    chosen: Collection[scoring.Candidate] = candidates.values()
    if only is not None or excluded:  # capture names neither: no copy of hundreds of them
        chosen = [c for code, c in candidates.items()
                  if code not in excluded and (only is None or code in only)]
    if counted or not capacity:
        chosen = [c.without_limit() if not capacity or c.code in counted else c
                  for c in chosen]
    policy = network.policy
    if max_splits is not None and max_splits < policy.max_splits:
        policy = replace(policy, max_splits=max(1, max_splits))
    decide = scoring.route_or_wait if wait else scoring.route
    return decide(lines, delivery, chosen, stock, policy, channel=channel, listed=listed)
