"""Choosing where each line is reserved, from a snapshot of availability. Pure, no I/O.

A deliberately simple rule behind two functions (the routing issue replaces it):

* pickup: everything at the chosen store, or a shortage;
* shipping: one location that has every line, else the fewest locations that together do.

Ties go, in order, to locations the order already uses (``preferred``), then warehouses
before 3PLs before stores (stores keep their shelves for walk-in customers), then the
location code — so the same snapshot always gives the same plan. The plan is only a
proposal: the caller reserves each allocation with the conditional update and refuses the
order if any reservation fails.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

__all__ = ["Allocation", "Plan", "Shortage", "Site", "plan_pickup", "plan_shipment"]

KIND_RANK = {"warehouse": 0, "3pl": 1, "store": 2}
# Exact search for the fewest locations looks at this many combinations at most, then falls
# back to a greedy choice (a capture must stay fast with hundreds of stores).
MAX_COMBINATIONS = 5_000

Demand = Sequence[tuple[str, int]]  # (sku, quantity) in line order, each SKU once
Stock = Mapping[str, Mapping[str, int]]  # sku -> location -> available units


@dataclass(frozen=True, slots=True)
class Site:
    """A location that may ship: its code and kind (warehouse, 3pl, store)."""

    code: str
    kind: str


@dataclass(frozen=True, slots=True)
class Allocation:
    sku: str
    location: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Shortage:
    sku: str
    requested: int
    available: int


@dataclass(frozen=True, slots=True)
class Plan:
    allocations: tuple[Allocation, ...] = ()
    shortages: tuple[Shortage, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.shortages

    @property
    def locations(self) -> list[str]:
        return sorted({a.location for a in self.allocations})


def _available(stock: Stock, sku: str, location: str) -> int:
    return max(0, stock.get(sku, {}).get(location, 0))


def _needs(demand: Demand) -> list[tuple[str, int]]:
    return [(sku, quantity) for sku, quantity in demand if quantity > 0]


def plan_pickup(demand: Demand, store: str, stock: Stock) -> Plan:
    """Everything at ``store``; a shortage for each line the store cannot cover."""
    needs = _needs(demand)
    shortages = tuple(
        Shortage(sku, quantity, _available(stock, sku, store))
        for sku, quantity in needs
        if _available(stock, sku, store) < quantity
    )
    if shortages:
        return Plan(shortages=shortages)
    return Plan(allocations=tuple(Allocation(sku, store, quantity) for sku, quantity in needs))


def plan_shipment(
    demand: Demand, sites: Sequence[Site], stock: Stock, *, preferred: Collection[str] = ()
) -> Plan:
    """One site with every line, else the fewest sites that cover them together."""
    needs = _needs(demand)
    codes = [site.code for site in sites]
    shortages = tuple(
        Shortage(sku, quantity, total)
        for sku, quantity in needs
        if (total := sum(_available(stock, sku, code) for code in codes)) < quantity
    )
    if shortages:
        return Plan(shortages=shortages)
    if not needs:
        return Plan()

    def rank(site: Site) -> tuple[bool, int, str]:
        return (site.code not in preferred, KIND_RANK.get(site.kind, len(KIND_RANK)), site.code)

    useful = sorted(
        (s for s in sites if any(_available(stock, sku, s.code) > 0 for sku, _ in needs)),
        key=rank,
    )
    examined = 0
    for size in range(1, len(useful) + 1):
        # combinations() keeps the ranked order, so the first feasible set is the best-ranked.
        for group in combinations(useful, size):
            examined += 1
            if examined > MAX_COMBINATIONS:
                return _greedy(needs, useful, stock)
            if all(sum(_available(stock, sku, s.code) for s in group) >= quantity
                   for sku, quantity in needs):
                return Plan(allocations=_allocate(needs, group, stock))
    raise AssertionError("stock covers every line, so some set of sites does")  # pragma: no cover


def _allocate(needs: list[tuple[str, int]], group: Sequence[Site], stock: Stock) -> tuple[
    Allocation, ...
]:
    """Split each line over ``group``: whole at one site when possible, else in rank order."""
    allocations: list[Allocation] = []
    for sku, quantity in needs:
        whole = next((s for s in group if _available(stock, sku, s.code) >= quantity), None)
        if whole is not None:
            allocations.append(Allocation(sku, whole.code, quantity))
            continue
        remaining = quantity
        for site in group:
            take = min(remaining, _available(stock, sku, site.code))
            if take > 0:
                allocations.append(Allocation(sku, site.code, take))
                remaining -= take
            if remaining == 0:
                break
    return tuple(allocations)


def _greedy(needs: list[tuple[str, int]], ranked: Sequence[Site], stock: Stock) -> Plan:
    """Pick the site covering the most remaining units, again and again (ties: rank order)."""
    remaining = dict(needs)
    chosen: list[Site] = []
    left = list(ranked)
    while any(remaining.values()):
        best = max(
            left,
            key=lambda s: sum(min(q, _available(stock, sku, s.code))
                              for sku, q in remaining.items()),
        )  # max() keeps the first of equals: the best-ranked
        chosen.append(best)
        left.remove(best)
        for sku, quantity in remaining.items():
            remaining[sku] = quantity - min(quantity, _available(stock, sku, best.code))
    return Plan(allocations=_allocate(needs, chosen, stock))
