"""The routing decision: which locations serve an order, and why. Pure, no I/O.

``route(lines, delivery, candidates, stock, policy)`` scores every location holding some of
the order's items and returns a ``Decision``: the allocations, each candidate with its score
components and why it won, lost or was excluded, and the winning reason as a sentence.

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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from math import inf

from comptoir.routing import geo

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

Stock = Mapping[str, Mapping[str, int]]  # sku -> location -> available units

# A location without coordinates, when the delivery's place is known, counts as this far.
UNKNOWN_LOCATION_KM = 1000.0
# The split search looks at this many locations at most (the greedy choice, then up to
# PER_LINE best suppliers of each line, then the most complete ones) ...
POOL_SIZE = 24
PER_LINE = 4
# ... tries at most this many locations at each step, and stops after about this many
# (location, line) comparisons: a few milliseconds, whatever the order.
BRANCH_WIDTH = 8
MAX_WORK = 40_000
# Names listed in a reason before "and N more".
LISTED = 3
# Candidates a decision describes unless asked for all.
LISTED_CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """Shipping to an address (coordinates, or a postal code and country), or a pickup."""

    method: str  # "ship" | "pickup"
    store: str | None = None  # the pickup location
    latitude: float | None = None
    longitude: float | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A location as routing sees it, with what it can still take today."""

    code: str
    kind: str  # warehouse | store | 3pl
    latitude: float | None = None
    longitude: float | None = None
    ships: bool = True
    serves_pickups: bool = False
    active: bool = True
    priority: int = 0  # higher is preferred
    shipping_cost: int = 0  # one parcel from here, minor units
    daily_capacity: int | None = None  # orders a day; None: no limit
    capacity_left: int | None = None  # orders it can still take today; None: no limit
    safety_stock: Mapping[str, int] = field(default_factory=dict)  # channel -> units kept back

    def after_orders(self, routed_today: int) -> Candidate:
        """The same location once ``routed_today`` orders have been routed to it today."""
        if self.daily_capacity is None:
            return self
        return Candidate(self.code, self.kind, self.latitude, self.longitude, self.ships,
                         self.serves_pickups, self.active, self.priority, self.shipping_cost,
                         self.daily_capacity, self.daily_capacity - routed_today,
                         self.safety_stock)

    @property
    def at_capacity(self) -> bool:
        return self.capacity_left is not None and self.capacity_left <= 0

    def without_limit(self) -> Candidate:
        """The same location as if it had no daily limit (where a waiting order is held)."""
        return replace(self, capacity_left=None) if self.capacity_left is not None else self


@dataclass(frozen=True, slots=True)
class Policy:
    distance_weight: float = 1.0  # points per km
    shipping_cost_weight: float = 0.1  # points per minor unit
    priority_weight: float = 100.0  # points per priority level below the best candidate
    split_penalty: float = 300.0  # points per location beyond the first
    max_splits: int = 2  # the most locations one order is split over (1: never split)
    stores_may_ship: bool = True
    capacity_applies_to_pickups: bool = False
    safety_stock: Mapping[str, int] = field(default_factory=dict)  # channel -> units, everywhere


@dataclass(frozen=True, slots=True)
class Allocation:
    location: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Shortage:
    sku: str
    requested: int
    available: int  # what routing could find for it under the policy


@dataclass(frozen=True, slots=True)
class CandidateOutcome:
    """One location's part in the decision: chosen, lost or excluded, and why."""

    code: str
    kind: str
    outcome: str  # "chosen" | "lost" | "excluded"
    reason: str
    distance_km: float | None = None
    distance_points: float = 0.0
    shipping_cost_points: float = 0.0
    priority_points: float = 0.0
    score: float | None = None  # what it scored (or would have, when excluded)
    lines_in_full: int = 0  # order lines it could serve entirely


@dataclass(frozen=True, slots=True)
class Decision:
    routed: bool
    allocations: tuple[Allocation, ...]
    shortages: tuple[Shortage, ...]
    reason: str
    # What decided: distance | shipping_cost | priority | only_option | tie_break | split |
    # pickup | nothing_to_route; when not routed: out_of_stock | max_splits | pickup_store,
    # or capacity (the order waits for capacity: ``allocations`` hold its units meanwhile).
    deciding_factor: str
    candidates: tuple[CandidateOutcome, ...]
    without_stock: int  # locations holding none of the items (counted, not scored)
    destination: str | None  # how the delivery place was found; None when unknown
    score: float | None = None  # the chosen plan's points
    method: str = "ship"
    channel: str | None = None
    not_listed: int = 0  # candidates scored but left out of ``candidates`` (see ``listed``)

    @property
    def locations(self) -> list[str]:
        """The chosen locations, in code order."""
        return sorted({a.location for a in self.allocations})

    @property
    def awaiting_capacity(self) -> bool:
        """Not routed only for want of capacity today: accepted, its units held."""
        return awaits_capacity(self.routed, self.deciding_factor)

    @property
    def accepted(self) -> bool:
        """Routed, or waiting for capacity: either way the order stands and holds its units."""
        return self.routed or self.awaiting_capacity


def awaits_capacity(routed: bool, deciding_factor: str) -> bool:
    """Whether a decision (stored or not) leaves its order waiting for capacity."""
    return not routed and deciding_factor == "capacity"


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
    demand = _demand(lines)
    by_code = {c.code: c for c in candidates}
    if not demand:
        decision = Decision(True, (), (), "Nothing to route: the order has no units.",
                            "nothing_to_route", (), 0, None)
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
        if c.outcome == "chosen":
            return replace(c, reason="holds the units until it has capacity; "
                                     + _capacity_text(full[c.code]))
        return replace(c, outcome="excluded", reason=_capacity_text(full[c.code]))

    outcomes = tuple(as_it_is(c) for c in blind.candidates)
    if not waiting_for:  # a plan within capacity after all (the search is heuristic)
        return replace(blind, candidates=outcomes)
    names = " and ".join(waiting_for) if len(waiting_for) <= 2 else _names(waiting_for)
    verb = "is" if len(waiting_for) == 1 else "are"
    return replace(
        blind, routed=False, deciding_factor="capacity", candidates=outcomes,
        reason=(f"Waiting for capacity: {names} {verb} at capacity today and no location "
                f"with capacity left can serve the order; its units are held at "
                f"{' and '.join(held) if len(held) <= 2 else _names(held)} until then."),
    )


def _demand(lines: Iterable[Line | tuple[str, int]]) -> list[tuple[str, int]]:
    """(sku, quantity) in line order, each SKU once, positive quantities only."""
    merged: dict[str, int] = {}
    for line in lines:
        sku, quantity = (line.sku, line.quantity) if isinstance(line, Line) else line
        if quantity > 0:
            merged[sku] = merged.get(sku, 0) + quantity
    return list(merged.items())


def _held_back(candidate: Candidate, policy: Policy, channel: str | None) -> int:
    if channel is None:
        return 0
    if channel in candidate.safety_stock:
        return candidate.safety_stock[channel]
    return policy.safety_stock.get(channel, 0)


def _gives(
    demand: Sequence[tuple[str, int]], candidate: Candidate, stock: Stock, held: int
) -> tuple[int, ...]:
    """Units of each line the candidate can serve (at most the line's quantity)."""
    code = candidate.code
    out = []
    for sku, quantity in demand:
        available = stock.get(sku, {}).get(code, 0) - held
        out.append(quantity if available >= quantity else max(0, available))
    return tuple(out)


def _names(items: Sequence[str]) -> str:
    if len(items) <= LISTED:
        return ", ".join(items)
    return ", ".join(items[:LISTED]) + f" and {len(items) - LISTED} more"


def _missing(demand: Sequence[tuple[str, int]], gives: Sequence[int]) -> str:
    """"missing A, short of B (1 of 2)" for the lines a candidate cannot serve in full."""
    missing = [sku for (sku, _q), g in zip(demand, gives, strict=True) if g == 0]
    short = [f"{sku} ({g} of {q})" for (sku, q), g in zip(demand, gives, strict=True)
             if 0 < g < q]
    parts = []
    if missing:
        parts.append("missing " + _names(missing))
    if short:
        parts.append("short of " + _names(short))
    return "; ".join(parts)


def _km(value: float | None) -> str:
    if value is None:
        return "distance unknown"
    return f"{value:.0f} km" if value >= 10 else f"{value:.1f} km"


def _money(minor: int) -> str:
    return f"{minor / 100:.2f}"


def _capacity_text(candidate: Candidate) -> str:
    daily, left = candidate.daily_capacity, candidate.capacity_left or 0
    if daily is not None:
        return f"at capacity ({daily - left} of {daily} orders today)"
    return "at capacity for today"


def _shortage_text(shortages: Sequence[Shortage]) -> str:
    return _names([f"{s.sku} ({s.available} of {s.requested})" for s in shortages])


# --- pickup -----------------------------------------------------------------------------------


def _route_pickup(
    demand: list[tuple[str, int]],
    delivery: Delivery,
    by_code: Mapping[str, Candidate],
    stock: Stock,
    policy: Policy,
    channel: str | None,
) -> Decision:
    code = delivery.store or ""
    store = by_code.get(code)

    def refuse(why: str, factor: str, shortages: tuple[Shortage, ...] = (),
               outcome: CandidateOutcome | None = None) -> Decision:
        return Decision(False, (), shortages, f"Cannot route: {why}.", factor,
                        (outcome,) if outcome else (), 0, None)

    if store is None:
        return refuse(f"'{code}' is not a location", "pickup_store")
    excluded, verb = None, "is"
    if not store.active:
        excluded = "inactive"
    elif not store.serves_pickups:
        excluded, verb = "does not serve pickups", ""
    elif (policy.capacity_applies_to_pickups and store.capacity_left is not None
          and store.capacity_left <= 0):
        excluded = _capacity_text(store)
    if excluded is not None:
        return refuse(f"the pickup store {code} {verb} {excluded}".replace("  ", " "),
                      "pickup_store",
                      outcome=CandidateOutcome(code, store.kind, "excluded", excluded))
    gives = _gives(demand, store, stock, _held_back(store, policy, channel))
    full = sum(1 for (_s, q), g in zip(demand, gives, strict=True) if g == q)
    if full < len(demand):
        shortages = tuple(Shortage(sku, q, g) for (sku, q), g in zip(demand, gives, strict=True)
                          if g < q)
        why = _missing(demand, gives)
        return refuse(f"the pickup store {code} is {why}", "out_of_stock", shortages,
                      CandidateOutcome(code, store.kind, "excluded", why, lines_in_full=full))
    return Decision(
        True, tuple(Allocation(code, sku, q) for sku, q in demand), (),
        f"{code}: the pickup store the customer chose, with all items.", "pickup",
        (CandidateOutcome(code, store.kind, "chosen", "the customer's pickup store",
                          score=0.0, lines_in_full=full),),
        0, None, 0.0,
    )


# --- shipping ---------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Scored:
    candidate: Candidate
    gives: tuple[int, ...]
    km: float | None
    distance: float
    cost: float
    excluded: str | None = None  # why it may not serve this order
    priority: float = 0.0
    score: float = 0.0  # what it scores, or would score when excluded
    full: int = 0  # lines served entirely
    fraction: float = 0.0  # share of the order it can serve (sum over lines of gives/quantity)


def _route_shipment(
    demand: list[tuple[str, int]],
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

    entries: list[_Scored] = []
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
        gives = []
        full = 0
        for level, quantity in zip(levels, quantities, strict=True):
            available = level.get(code, 0) - held
            if available >= quantity:
                gives.append(quantity)
                full += 1
            else:
                gives.append(available if available > 0 else 0)
        why = _exclusion(candidate, policy)
        if why is None and not any(gives):
            why = "none of the items beyond the channel's safety stock"
        km = None
        if distance_to is None:
            distance = 0.0
        elif candidate.latitude is None or candidate.longitude is None:
            distance = unknown_distance
        else:
            km = distance_to(candidate.latitude, candidate.longitude)
            distance = policy.distance_weight * km
        entries.append(_Scored(candidate, tuple(gives), km, distance,
                               policy.shipping_cost_weight * candidate.shipping_cost, why,
                               full=full))
    if entries:
        top = max(e.candidate.priority for e in entries)
        for e in entries:
            e.priority = policy.priority_weight * (top - e.candidate.priority)
            # Rounded so that equal locations compare equal and the code decides.
            e.score = round(e.distance + e.cost + e.priority, 3)
    entries.sort(key=_rank)
    eligible = [e for e in entries if e.excluded is None]
    context = _Context(demand, entries, listed, without_stock,
                       place.source if place is not None else None,
                       "" if place is not None else "; delivery place unknown, distance not scored")
    everything = [e for e in eligible if e.full == len(demand)]
    if everything:
        return _single(context, everything)
    return _split(context, eligible, policy)


@dataclass(frozen=True, slots=True)
class _Context:
    demand: list[tuple[str, int]]
    entries: list[_Scored]  # every location holding some of the items, best score first
    listed: int | None  # how many candidates the decision lists (None: all)
    without_stock: int
    destination: str | None
    unknown_place: str  # said at the end of the reason when the place is unknown


def _exclusion(candidate: Candidate, policy: Policy) -> str | None:
    if not candidate.active:
        return "inactive"
    if not candidate.ships:
        return "does not ship"
    if candidate.kind == "store" and not policy.stores_may_ship:
        return "stores do not ship under the routing policy"
    if candidate.capacity_left is not None and candidate.capacity_left <= 0:
        return _capacity_text(candidate)
    return None


def _rank(s: _Scored) -> tuple[float, str]:
    return (s.score, s.candidate.code)


def _outcome(s: _Scored, outcome: str, reason: str) -> CandidateOutcome:
    return CandidateOutcome(
        s.candidate.code, s.candidate.kind, outcome, reason,
        None if s.km is None else round(s.km, 1), round(s.distance, 3), round(s.cost, 3),
        round(s.priority, 3), s.score, s.full,
    )


def _listing(
    context: _Context, chosen: Sequence[tuple[_Scored, str]], why_lost: Callable[[_Scored], str]
) -> tuple[tuple[CandidateOutcome, ...], int]:
    """The chosen locations, then the others by score; and how many were left out.

    Only the listed ones get a reason written: with hundreds of candidates, that is most of
    the work.
    """
    out = [_outcome(s, "chosen", why) for s, why in chosen]
    codes = {s.candidate.code for s, _why in chosen}
    others = [e for e in context.entries if e.candidate.code not in codes]
    shown = others if context.listed is None else others[:max(0, context.listed - len(out))]
    for e in shown:
        out.append(_outcome(e, "excluded", e.excluded) if e.excluded is not None
                   else _outcome(e, "lost", why_lost(e)))
    return tuple(out), len(others) - len(shown)


def _single(context: _Context, everything: list[_Scored]) -> Decision:
    demand = context.demand
    winner = everything[0]
    code = winner.candidate.code
    factor, why = _why_first(winner, everything)
    where = _km(winner.km) if winner.km is not None or not context.unknown_place else ""
    joiner = ", " if factor == "tie_break" else " "
    reason = f"{code}: {why}{joiner}with all items" + (f", {where}" if where else "") \
        + context.unknown_place

    def why_lost(s: _Scored) -> str:
        if s.full == len(demand):
            return _why_behind(s, winner)
        return _missing(demand, s.gives)

    candidates, not_listed = _listing(context, [(winner, why)], why_lost)
    return Decision(
        True, tuple(Allocation(code, sku, q) for sku, q in demand), (), reason + ".", factor,
        candidates, context.without_stock, context.destination, winner.score,
        not_listed=not_listed,
    )


def _why_first(winner: _Scored, everything: Sequence[_Scored]) -> tuple[str, str]:
    """The deciding factor against the runner-up, and how to say it."""
    if len(everything) == 1:
        return "only_option", "the only location"
    runner = everything[1]
    margins = {
        "distance": runner.distance - winner.distance,
        "shipping_cost": runner.cost - winner.cost,
        "priority": runner.priority - winner.priority,
    }
    factor = max(margins, key=lambda k: margins[k])  # first of equals: distance, cost, priority
    if winner.score == runner.score or margins[factor] <= 0:
        return "tie_break", f"tied on score with {runner.candidate.code}, first by code"
    others = everything[1:]
    if factor == "distance":
        nearest = all(s.km is not None and winner.km is not None and winner.km <= s.km
                      for s in others)
        return factor, "nearest" if nearest else f"nearer than {runner.candidate.code}"
    if factor == "shipping_cost":
        cheapest = all(winner.candidate.shipping_cost <= s.candidate.shipping_cost
                       for s in others)
        text = "cheapest to ship" if cheapest else f"cheaper to ship than {runner.candidate.code}"
        return factor, f"{text} ({_money(winner.candidate.shipping_cost)})"
    highest = all(winner.candidate.priority >= s.candidate.priority for s in others)
    text = "highest priority" if highest else f"higher priority than {runner.candidate.code}"
    return factor, f"{text} ({winner.candidate.priority})"


def _why_behind(loser: _Scored, winner: _Scored) -> str:
    """Why a location with every item lost to the winner: its largest disadvantage."""
    gaps = {
        "distance": loser.distance - winner.distance,
        "shipping_cost": loser.cost - winner.cost,
        "priority": loser.priority - winner.priority,
    }
    worst = max(gaps, key=lambda k: gaps[k])
    if loser.score == winner.score or gaps[worst] <= 0:
        return f"same score as {winner.candidate.code}, which comes first by code"
    if worst == "distance":
        return f"farther: {_km(loser.km)} vs {_km(winner.km)}"
    if worst == "shipping_cost":
        return (f"costlier to ship: {_money(loser.candidate.shipping_cost)} vs "
                f"{_money(winner.candidate.shipping_cost)}")
    return f"lower priority: {loser.candidate.priority} vs {winner.candidate.priority}"


# --- splits -----------------------------------------------------------------------------------


def _split(context: _Context, eligible: list[_Scored], policy: Policy) -> Decision:
    demand = context.demand
    quantities = tuple(q for _sku, q in demand)
    totals = [sum(s.gives[i] for s in eligible) for i in range(len(demand))]
    for s in eligible:
        s.fraction = sum(g / q for g, q in zip(s.gives, quantities, strict=True))

    def refuse(shortages: tuple[Shortage, ...], factor: str, why: str) -> Decision:
        candidates, not_listed = _listing(
            context, [], lambda s: _missing(demand, s.gives) or "not needed")
        return Decision(False, (), shortages, f"Cannot route: {why}.", factor, candidates,
                        context.without_stock, context.destination, not_listed=not_listed)

    short = tuple(Shortage(sku, q, totals[i]) for i, (sku, q) in enumerate(demand)
                  if totals[i] < q)
    if short:
        return refuse(short, "out_of_stock",
                      f"not enough stock where orders may ship from: {_shortage_text(short)}")
    limit = max(1, policy.max_splits)
    plan, partial = _search(eligible, quantities, limit, policy.split_penalty)
    if plan is None:
        shortages = tuple(Shortage(sku, q, q - partial[i]) for i, (sku, q) in enumerate(demand)
                          if partial[i] > 0)
        if limit == 1:
            why = "no single location has every item and the routing policy does not split"
        else:
            why = f"no {limit} locations together have every item"
        return refuse(shortages, "max_splits", f"{why}; short: {_shortage_text(shortages)}")

    allocations, used = _allocate(demand, plan)
    chosen = sorted((s for s in plan if s.candidate.code in used), key=_rank)
    total = round(sum(s.score for s in chosen) + policy.split_penalty * (len(chosen) - 1), 3)
    names = [s.candidate.code for s in chosen]
    reason = (f"Split over {' and '.join(names) if len(names) == 2 else _names(names)}: no single "
              f"location has every item; the lowest combined score within {limit} locations"
              f"{context.unknown_place}.")
    served: dict[str, list[str]] = {}
    for a in allocations:
        served.setdefault(a.location, []).append(f"{a.quantity} x {a.sku}")

    def why_lost(s: _Scored) -> str:
        why = _missing(demand, s.gives)
        return f"{why}; not in the best split" if why else "not in the best split"

    candidates, not_listed = _listing(
        context, [(s, "serves " + _names(served[s.candidate.code])) for s in chosen], why_lost)
    return Decision(True, tuple(allocations), (), reason, "split", candidates,
                    context.without_stock, context.destination, total, not_listed=not_listed)


def _search(
    scored: list[_Scored], quantities: tuple[int, ...], limit: int, penalty: float
) -> tuple[list[_Scored] | None, tuple[int, ...]]:
    """The best set of at most ``limit`` locations covering every line, or None.

    With None comes what the best greedy set of ``limit`` locations still leaves short.
    Greedy first (the location serving the largest share of what is left, then the better
    score), which also gives a bound; then a branch-and-bound search over a pool of useful
    locations, always branching on the first line not yet covered. Scores are never
    negative, so a partial plan costing as much as the best one is abandoned.
    """
    n = len(quantities)
    best: list[_Scored] | None = None
    best_key: tuple[float, int, tuple[str, ...]] = (inf, 0, ())

    def key_of(plan: Sequence[_Scored]) -> tuple[float, int, tuple[str, ...]]:
        total = sum(s.score for s in plan) + penalty * (len(plan) - 1)
        return (round(total, 3), len(plan), tuple(sorted(s.candidate.code for s in plan)))

    def left_after(remaining: tuple[int, ...], s: _Scored) -> tuple[int, ...]:
        return tuple(max(0, r - g) for r, g in zip(remaining, s.gives, strict=True))

    def share(remaining: tuple[int, ...], s: _Scored) -> float:
        return sum(min(r, g) / q for r, g, q in zip(remaining, s.gives, quantities, strict=True)
                   if r)

    # Greedy.
    remaining = quantities
    greedy: list[_Scored] = []
    taken: set[str] = set()
    while any(remaining) and len(greedy) < limit:
        pick = max((s for s in scored if s.candidate.code not in taken),
                   key=lambda s: (share(remaining, s), -s.score), default=None)
        if pick is None or share(remaining, pick) == 0:
            break
        greedy.append(pick)
        taken.add(pick.candidate.code)
        remaining = left_after(remaining, pick)
    if not any(remaining):
        best, best_key = greedy, key_of(greedy)
    partial = remaining

    # A pool of useful locations: the greedy choice, then in turn the next-best supplier of
    # each line, then the most complete ones. With few candidates, all of them.
    if len(scored) <= POOL_SIZE:
        pool = list(scored)
    else:
        picked: dict[str, _Scored] = {s.candidate.code: s for s in greedy}
        suppliers = [_best_suppliers(scored, i, quantities[i]) for i in range(n)]
        depth = 0
        while len(picked) < POOL_SIZE and any(depth < len(line) for line in suppliers):
            for line in suppliers:
                if depth < len(line) and len(picked) < POOL_SIZE:
                    picked.setdefault(line[depth].candidate.code, line[depth])
            depth += 1
            if depth >= PER_LINE:
                break
        for s in sorted(scored, key=lambda s: (-s.fraction, s.score, s.candidate.code)):
            if len(picked) >= POOL_SIZE:
                break
            picked.setdefault(s.candidate.code, s)
        pool = sorted(picked.values(), key=_rank)

    work = 0
    seen: set[frozenset[str]] = set()

    def explore(plan: list[_Scored], remaining: tuple[int, ...], cost: float) -> None:
        nonlocal best, best_key, work
        if not any(remaining):
            key = key_of(plan)
            if key < best_key:
                best, best_key = list(plan), key
            return
        if len(plan) >= limit or work > MAX_WORK:
            return
        work += len(pool) * n
        # Adding a location adds at least the split penalty: no better than the best so far.
        if plan and round(cost + penalty * len(plan), 3) > best_key[0]:
            return
        line = next(i for i, r in enumerate(remaining) if r)
        in_plan = {p.candidate.code for p in plan}
        options = sorted((s for s in pool if s.gives[line] and s.candidate.code not in in_plan),
                         key=lambda s: (-share(remaining, s), s.score, s.candidate.code))
        for s in options[:BRANCH_WIDTH]:
            codes = frozenset([*(p.candidate.code for p in plan), s.candidate.code])
            if codes in seen:
                continue
            seen.add(codes)
            plan.append(s)
            explore(plan, left_after(remaining, s), cost + s.score)
            plan.pop()

    explore([], quantities, 0.0)
    return best, partial


def _best_suppliers(scored: Sequence[_Scored], line: int, quantity: int) -> list[_Scored]:
    """Locations with some of a line: those with all of it first, then by score."""
    def key(s: _Scored) -> tuple[bool, float, str]:
        return (s.gives[line] < quantity, s.score, s.candidate.code)

    return sorted((s for s in scored if s.gives[line]), key=key)


def _allocate(
    demand: list[tuple[str, int]], plan: Sequence[_Scored]
) -> tuple[list[Allocation], set[str]]:
    """Each line whole at the best-scored location of the plan that can, else in score order."""
    ordered = sorted(plan, key=_rank)
    allocations: list[Allocation] = []
    for i, (sku, quantity) in enumerate(demand):
        whole = next((s for s in ordered if s.gives[i] >= quantity), None)
        if whole is not None:
            allocations.append(Allocation(whole.candidate.code, sku, quantity))
            continue
        remaining = quantity
        for s in ordered:
            take = min(remaining, s.gives[i])
            if take > 0:
                allocations.append(Allocation(s.candidate.code, sku, take))
                remaining -= take
            if remaining == 0:
                break
    return allocations, {a.location for a in allocations}
