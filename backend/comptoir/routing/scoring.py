"""The routing decision: which locations serve an order, and why. Pure, no I/O.

``route(lines, delivery, candidates, stock, policy)`` scores every location holding some of
the order's items and returns a ``Decision``: the allocations, each candidate with its score
components and why it won, lost or was excluded, and why the decision went as it did.
Every reason is a code with its parameters (``reasons``), said in English by
``explanation`` and in the reader's language by the PWA.

The rules, in order:

* pickup: everything at the store the customer chose, or a shortage (nothing else is a
  candidate);
* shipping: a location that is inactive, does not ship, is a store when the policy keeps
  stores from shipping, or is at its daily capacity, is excluded;
* the location with every item and the lowest score wins; an order is split only when no
  single location has every item, over at most ``policy.max_splits`` locations; otherwise
  the decision says what is short;
* a score is points, lower is better: distance (km) * ``distance_weight`` + shipping cost
  (minor units) * ``shipping_cost_weight`` + levels of priority below the best candidate *
  ``priority_weight``; a plan over n locations adds ``split_penalty`` * (n - 1);
* equal scores go to the location code first in alphabetical order: the same input always
  gives the same decision;
* ``route_or_wait``: an order that only capacity keeps from being routed (routing it as if no
  location had a daily limit would succeed) waits for capacity instead of being refused; its
  units are held where that capacity-blind routing would send it, the location it will most
  likely go to when capacity frees.

Fast enough for capture with hundreds of locations: locations holding none of the items are
counted, never scored; a split is searched greedily, then improved by a branch-and-bound
search over a small pool of the most useful locations, within a fixed budget of steps.

Here: the decision, pickups and the single location; ``candidates``: what each location can
give, scores and lists; ``split``: splitting; ``decision``: the types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from comptoir.routing import geo
from comptoir.routing.candidates import (
    Context,
    Demand,
    Scored,
    at_capacity,
    demand_of,
    exclusion,
    gives,
    held_back,
    listing,
    missing,
    rank,
)
from comptoir.routing.decision import (
    Allocation,
    Candidate,
    CandidateOutcome,
    Decision,
    Delivery,
    Line,
    Policy,
    Shortage,
    Stock,
    awaits_capacity,
)
from comptoir.routing.reasons import Reason, ReasonCode
from comptoir.routing.split import split

__all__ = [
    "LISTED_CANDIDATES",
    "Allocation",
    "Candidate",
    "CandidateOutcome",
    "Decision",
    "Delivery",
    "Line",
    "Policy",
    "Shortage",
    "Stock",
    "awaits_capacity",
    "route",
    "route_or_wait",
]

C = ReasonCode
# A location without coordinates, when the delivery's place is known, counts as this far.
UNKNOWN_LOCATION_KM = 1000.0
# Candidates a decision describes unless asked for all (the chosen ones, then the others by
# score): enough to explain it, and what a stored decision keeps (``decisions``).
LISTED_CANDIDATES = 25


# --- the decision -----------------------------------------------------------------------------


def route(
    lines: Iterable[Line | tuple[str, int]],
    delivery: Delivery,
    candidates: Iterable[Candidate],
    stock: Stock,
    policy: Policy,
    *,
    channel: str | None = None,
    listed: int | None = LISTED_CANDIDATES,
) -> Decision:
    """Decide where each line of an order is served (see the module docstring).

    ``listed``: how many candidates the decision describes (the chosen ones, then the others
    by score); ``None`` for all of them.
    """
    demand = demand_of(lines)
    by_code = {c.code: c for c in candidates}
    if not demand:
        decision = Decision(True, (), (), Reason(code=C.NOTHING_TO_ROUTE), "nothing_to_route",
                            (), 0, None)
    elif delivery.method == "pickup":
        decision = _route_pickup(demand, delivery, by_code, stock, policy, channel)
    else:
        decision = _route_shipment(demand, delivery, by_code, stock, policy, channel, listed)
    return replace(decision, method=delivery.method, channel=channel)


def route_or_wait(
    lines: Iterable[Line | tuple[str, int]],
    delivery: Delivery,
    candidates: Iterable[Candidate],
    stock: Stock,
    policy: Policy,
    *,
    channel: str | None = None,
    listed: int | None = LISTED_CANDIDATES,
) -> Decision:
    """``route``, except that an order only capacity keeps from being routed waits for it.

    The waiting decision (``deciding_factor`` "capacity", ``routed`` false) allocates the
    units where routing would send them if no location had a daily limit: they are held
    there so nobody else sells them, and that is where the order most likely goes once
    capacity frees. An order that is short even then is refused for what is short, with the
    units really on hand where it may ship from (never "0 available" because of capacity).
    """
    lines = list(lines)
    candidates = list(candidates)
    decision = route(lines, delivery, candidates, stock, policy, channel=channel, listed=listed)
    full = {c.code: c for c in candidates if c.at_capacity}
    if decision.routed or not full:
        return decision
    blind = route(lines, delivery, [c.without_limit() for c in candidates], stock, policy,
                  channel=channel, listed=listed)
    if not blind.routed:
        return blind  # short whatever the capacity: say what is really short
    held = blind.locations
    waiting_for = sorted(code for code in held if code in full)

    def as_it_is(c: CandidateOutcome) -> CandidateOutcome:
        """A location at capacity holds the units, or is excluded, and says so."""
        if c.code not in full:
            return c
        why = at_capacity(full[c.code])
        if c.outcome == "chosen":
            holds = Reason(code=C.HOLDS_UNTIL_CAPACITY, orders=why.orders, capacity=why.capacity)
            return replace(c, explanation=holds)
        return replace(c, outcome="excluded", explanation=why)

    outcomes = tuple(as_it_is(c) for c in blind.candidates)
    if not waiting_for:  # a plan within capacity after all (the search is heuristic)
        return replace(blind, candidates=outcomes)
    return replace(
        blind, routed=False, deciding_factor="capacity", candidates=outcomes,
        explanation=Reason(code=C.WAITING_FOR_CAPACITY, locations=tuple(waiting_for),
                           held_at=tuple(held)),
    )


# --- pickup -----------------------------------------------------------------------------------


def _route_pickup(
    demand: Demand,
    delivery: Delivery,
    by_code: Mapping[str, Candidate],
    stock: Stock,
    policy: Policy,
    channel: str | None,
) -> Decision:
    code = delivery.store or ""
    store = by_code.get(code)

    def refuse(why: Reason, factor: str, shortages: tuple[Shortage, ...] = (),
               outcome: CandidateOutcome | None = None) -> Decision:
        return Decision(False, (), shortages, why, factor, (outcome,) if outcome else (), 0,
                        None)

    if store is None:
        return refuse(Reason(code=C.PICKUP_NOT_A_LOCATION, location=code), "pickup_store")
    excluded = None
    if not store.active:
        excluded = Reason(code=C.INACTIVE)
    elif not store.serves_pickups:
        excluded = Reason(code=C.NO_PICKUPS)
    elif policy.capacity_applies_to_pickups and store.at_capacity:
        excluded = at_capacity(store)
    if excluded is not None:
        return refuse(Reason(code=C.PICKUP_STORE_REFUSED, location=code, because=excluded),
                      "pickup_store",
                      outcome=CandidateOutcome(code, store.kind, "excluded", excluded))
    served = gives(demand, store, stock, held_back(store, policy, channel))
    full = sum(1 for (_s, q), g in zip(demand, served, strict=True) if g == q)
    lacking = missing(demand, served)
    if lacking is not None:
        shortages = tuple(Shortage(sku, q, g) for (sku, q), g in zip(demand, served, strict=True)
                          if g < q)
        return refuse(Reason(code=C.PICKUP_STORE_REFUSED, location=code, because=lacking),
                      "out_of_stock", shortages,
                      CandidateOutcome(code, store.kind, "excluded", lacking, lines_in_full=full))
    return Decision(
        True, tuple(Allocation(code, sku, q) for sku, q in demand), (),
        Reason(code=C.PICKUP_CHOSEN, location=code), "pickup",
        (CandidateOutcome(code, store.kind, "chosen", Reason(code=C.CUSTOMERS_PICKUP_STORE),
                          score=0.0, lines_in_full=full),),
        0, None, 0.0,
    )


# --- shipping ---------------------------------------------------------------------------------


def _route_shipment(
    demand: Demand,
    delivery: Delivery,
    by_code: Mapping[str, Candidate],
    stock: Stock,
    policy: Policy,
    channel: str | None,
    listed: int | None,
) -> Decision:
    place = geo.place_of(latitude=delivery.latitude, longitude=delivery.longitude,
                         postal_code=delivery.postal_code, country=delivery.country)
    # Only locations holding some of the items are looked at; the rest are only counted.
    holding: set[str] = set()
    for sku, _quantity in demand:
        holding.update(code for code, n in stock.get(sku, {}).items() if n > 0)
    codes = sorted(code for code in holding if code in by_code)
    without_stock = len(by_code) - len(codes)

    entries: list[Scored] = []
    levels = [stock.get(sku) or {} for sku, _q in demand]
    quantities = [q for _sku, q in demand]
    everywhere = policy.safety_stock.get(channel, 0) if channel is not None else 0
    distance_to = (geo.distances_from(place.latitude, place.longitude)
                   if place is not None else None)
    unknown_distance = policy.distance_weight * UNKNOWN_LOCATION_KM
    # The hottest loop of capture: once per location holding some of the items.
    for code in codes:
        candidate = by_code[code]
        held = everywhere
        if channel is not None and candidate.safety_stock:
            held = candidate.safety_stock.get(channel, everywhere)
        served = []
        full = 0
        for level, quantity in zip(levels, quantities, strict=True):
            available = level.get(code, 0) - held
            if available >= quantity:
                served.append(quantity)
                full += 1
            else:
                served.append(available if available > 0 else 0)
        why = exclusion(candidate, policy)
        if why is None and not any(served):
            why = _SAFETY_STOCK
        km = None
        if distance_to is None:
            distance = 0.0
        elif candidate.latitude is None or candidate.longitude is None:
            distance = unknown_distance
        else:
            km = distance_to(candidate.latitude, candidate.longitude)
            distance = policy.distance_weight * km
        entries.append(Scored(candidate, tuple(served), km, distance,
                              policy.shipping_cost_weight * candidate.shipping_cost, why,
                              full=full))
    if entries:
        top = max(e.candidate.priority for e in entries)
        for e in entries:
            e.priority = policy.priority_weight * (top - e.candidate.priority)
            # Rounded so that equal locations compare equal and the code decides.
            e.score = round(e.distance + e.cost + e.priority, 3)
    entries.sort(key=rank)
    eligible = [e for e in entries if e.excluded is None]
    context = Context(demand, entries, listed, without_stock,
                      place.source if place is not None else None, place is None)
    everything = [e for e in eligible if e.full == len(demand)]
    if everything:
        return _single(context, everything)
    return split(context, eligible, policy)


_SAFETY_STOCK = Reason(code=C.SAFETY_STOCK)


def _single(context: Context, everything: list[Scored]) -> Decision:
    demand = context.demand
    winner = everything[0]
    code = winner.candidate.code
    factor, why = _why_first(winner, everything)
    reason = Reason(code=C.SINGLE_LOCATION, location=code, because=why, km=winner.km,
                    place_unknown=context.place_unknown)

    def why_lost(s: Scored) -> Reason:
        if s.full == len(demand):
            return _why_behind(s, winner)
        return missing(demand, s.gives) or Reason(code=C.NOT_NEEDED)

    candidates, not_listed = listing(context, [(winner, why)], why_lost)
    return Decision(
        True, tuple(Allocation(code, sku, q) for sku, q in demand), (), reason, factor,
        candidates, context.without_stock, context.destination, winner.score,
        not_listed=not_listed,
    )


def _why_first(winner: Scored, everything: Sequence[Scored]) -> tuple[str, Reason]:
    """The deciding factor against the runner-up, and the reason that says it."""
    if len(everything) == 1:
        return "only_option", Reason(code=C.ONLY_OPTION)
    runner = everything[1]
    other = runner.candidate.code
    margins = {
        "distance": runner.distance - winner.distance,
        "shipping_cost": runner.cost - winner.cost,
        "priority": runner.priority - winner.priority,
    }
    factor = max(margins, key=lambda k: margins[k])  # first of equals: distance, cost, priority
    if winner.score == runner.score or margins[factor] <= 0:
        return "tie_break", Reason(code=C.TIED, other=other)
    others = everything[1:]
    if factor == "distance":
        nearest = all(s.km is not None and winner.km is not None and winner.km <= s.km
                      for s in others)
        return factor, Reason(code=C.NEAREST) if nearest else Reason(code=C.NEARER, other=other)
    if factor == "shipping_cost":
        cost = winner.candidate.shipping_cost
        if all(cost <= s.candidate.shipping_cost for s in others):
            return factor, Reason(code=C.CHEAPEST, amount=cost)
        return factor, Reason(code=C.CHEAPER, other=other, amount=cost)
    priority = winner.candidate.priority
    if all(priority >= s.candidate.priority for s in others):
        return factor, Reason(code=C.HIGHEST_PRIORITY, priority=priority)
    return factor, Reason(code=C.HIGHER_PRIORITY, other=other, priority=priority)


def _why_behind(loser: Scored, winner: Scored) -> Reason:
    """Why a location with every item lost to the winner: its largest disadvantage."""
    gaps = {
        "distance": loser.distance - winner.distance,
        "shipping_cost": loser.cost - winner.cost,
        "priority": loser.priority - winner.priority,
    }
    worst = max(gaps, key=lambda k: gaps[k])
    if loser.score == winner.score or gaps[worst] <= 0:
        return Reason(code=C.SAME_SCORE, other=winner.candidate.code)
    if worst == "distance":
        return Reason(code=C.FARTHER, km=loser.km, other_km=winner.km)
    if worst == "shipping_cost":
        return Reason(code=C.COSTLIER, amount=loser.candidate.shipping_cost,
                      other_amount=winner.candidate.shipping_cost)
    return Reason(code=C.LOWER_PRIORITY, priority=loser.candidate.priority,
                  other_priority=winner.candidate.priority)
