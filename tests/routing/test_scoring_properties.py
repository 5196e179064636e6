"""Properties of every routing decision, over random networks, stock and policies."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from comptoir.routing.scoring import Candidate, Decision, Delivery, Policy, route, route_or_wait

CODES = [f"L{i}" for i in range(7)]
SKUS = ["A", "B", "C", "D"]


@st.composite
def networks(draw: st.DrawFn) -> list[Candidate]:
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=len(CODES), unique=True))
    out = []
    for code in codes:
        capacity = draw(st.none() | st.integers(0, 3))
        out.append(Candidate(
            code=code, kind=draw(st.sampled_from(["warehouse", "store", "3pl"])),
            latitude=draw(st.none() | st.floats(43.0, 50.0)),
            longitude=draw(st.floats(-1.0, 7.0)),
            ships=draw(st.booleans()) or draw(st.booleans()),
            active=draw(st.booleans()) or draw(st.booleans()),
            priority=draw(st.integers(0, 3)),
            shipping_cost=draw(st.integers(0, 1500)),
            daily_capacity=capacity,
            capacity_left=None if capacity is None else draw(st.integers(-1, capacity)),
        ))
    return out


stocks = st.dictionaries(
    st.sampled_from(SKUS), st.dictionaries(st.sampled_from(CODES), st.integers(0, 4)))
orders = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 5)), min_size=1, max_size=4)
policies = st.builds(
    Policy,
    distance_weight=st.sampled_from([0.0, 1.0, 2.5]),
    shipping_cost_weight=st.sampled_from([0.0, 0.1]),
    priority_weight=st.sampled_from([0.0, 100.0]),
    split_penalty=st.sampled_from([0.0, 50.0, 300.0]),
    max_splits=st.integers(1, 3),
    stores_may_ship=st.booleans(),
)
deliveries = st.one_of(
    st.builds(Delivery, method=st.just("ship"), latitude=st.floats(43.0, 50.0),
              longitude=st.floats(-1.0, 7.0)),
    st.builds(Delivery, method=st.just("ship"), postal_code=st.sampled_from(["69001", "75011",
                                                                              "99999"]),
              country=st.just("FR")),
)


def eligible(c: Candidate, policy: Policy) -> bool:
    return (c.active and c.ships and (c.kind != "store" or policy.stores_may_ship)
            and (c.capacity_left is None or c.capacity_left > 0))


def demand_of(lines: list[tuple[str, int]]) -> Counter[str]:
    wanted: Counter[str] = Counter()
    for sku, quantity in lines:
        wanted[sku] += quantity
    return wanted


def feasible_sets(network: list[Candidate], stock: dict[str, dict[str, int]],
                  wanted: Counter[str], policy: Policy) -> list[tuple[str, ...]]:
    usable = sorted(c.code for c in network if eligible(c, policy))
    found = []
    for size in range(1, policy.max_splits + 1):
        for group in combinations(usable, size):
            if all(sum(stock.get(sku, {}).get(code, 0) for code in group) >= quantity
                   for sku, quantity in wanted.items()):
                found.append(group)
    return found


def check(decision: Decision, network: list[Candidate], stock: dict[str, dict[str, int]],
          lines: list[tuple[str, int]], policy: Policy) -> None:
    wanted = demand_of(lines)
    by_code = {c.code: c for c in network}
    taken: Counter[tuple[str, str]] = Counter()
    for a in decision.allocations:
        assert a.quantity > 0
        taken[(a.sku, a.location)] += a.quantity
        assert eligible(by_code[a.location], policy), a
    # Never more than a location has.
    for (sku, location), quantity in taken.items():
        assert quantity <= stock.get(sku, {}).get(location, 0)
    if decision.routed:
        # Every line covered exactly, within the maximum number of locations.
        served: Counter[str] = Counter()
        for (sku, _location), quantity in taken.items():
            served[sku] += quantity
        assert served == wanted
        assert 1 <= len(decision.locations) <= policy.max_splits
        assert not decision.shortages
    else:
        # Nothing allocated, and the result says what is short.
        assert decision.allocations == ()
        assert decision.shortages
        assert {s.sku for s in decision.shortages} <= set(wanted)
        for s in decision.shortages:
            assert s.available < s.requested == wanted[s.sku]
        assert decision.reason.startswith("Cannot route: ")


@settings(max_examples=150, deadline=None)
@given(networks(), stocks, orders, policies, deliveries)
def test_every_decision_respects_stock_covers_the_order_or_says_what_is_short(
    network: list[Candidate], stock: dict[str, dict[str, int]], lines: list[tuple[str, int]],
    policy: Policy, delivery: Delivery,
) -> None:
    decision = route(lines, delivery, network, stock, policy)
    check(decision, network, stock, lines, policy)


@settings(max_examples=150, deadline=None)
@given(networks(), stocks, orders, policies, deliveries)
def test_an_order_is_routed_whenever_some_allowed_locations_can_serve_it(
    network: list[Candidate], stock: dict[str, dict[str, int]], lines: list[tuple[str, int]],
    policy: Policy, delivery: Delivery,
) -> None:
    decision = route(lines, delivery, network, stock, policy)
    sets = feasible_sets(network, stock, demand_of(lines), policy)

    assert decision.routed == bool(sets)
    if any(len(group) == 1 for group in sets):
        # No split when one location has everything.
        assert len(decision.locations) == 1
    if decision.routed and len(decision.locations) > 1:
        # The cheapest split: no allowed set scores lower (scores as the decision lists them).
        score = {c.code: c.score for c in decision.candidates if c.score is not None}
        for group in sets:
            if not all(code in score for code in group):
                continue  # a location holding none of the items only adds to a set's cost
            cost = sum(score[code] for code in group) + policy.split_penalty * (len(group) - 1)
            assert decision.score is not None and decision.score <= round(cost, 3) + 1e-6


@settings(max_examples=100, deadline=None)
@given(networks(), stocks, orders, policies, deliveries, st.randoms(use_true_random=False))
def test_the_same_order_gets_the_same_decision_whatever_the_order_of_the_input(
    network: list[Candidate], stock: dict[str, dict[str, int]], lines: list[tuple[str, int]],
    policy: Policy, delivery: Delivery, rnd: object,
) -> None:
    first = route(lines, delivery, network, stock, policy)
    shuffled = network[:]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    reordered_stock = {sku: dict(reversed(list(levels.items())))
                       for sku, levels in reversed(list(stock.items()))}

    assert route(lines, delivery, shuffled, reordered_stock, policy) == first
    assert route(lines, delivery, network, stock, policy) == first


def unlimited(network: list[Candidate]) -> list[Candidate]:
    return [c.without_limit() for c in network]


@settings(max_examples=200, deadline=None)
@given(networks(), stocks, orders, policies, deliveries)
def test_an_order_waits_for_capacity_only_when_capacity_alone_stops_it(
    network: list[Candidate], stock: dict[str, dict[str, int]], lines: list[tuple[str, int]],
    policy: Policy, delivery: Delivery,
) -> None:
    strict = route(lines, delivery, network, stock, policy)
    decision = route_or_wait(lines, delivery, network, stock, policy)
    blind = route(lines, delivery, unlimited(network), stock, policy)

    if strict.routed:
        assert decision == strict
    elif decision.awaiting_capacity:
        # Accepted, not routed: its units are held where the policy would send it without
        # the daily limits, and one of those locations is what it waits for.
        assert blind.routed and not decision.routed and decision.accepted
        assert decision.allocations == blind.allocations and not decision.shortages
        check(blind, unlimited(network), stock, lines, policy)
        by_code = {c.code: c for c in network}
        assert any(by_code[code].at_capacity for code in decision.locations)
        assert decision.reason.startswith("Waiting for capacity: ")
    elif decision.routed:
        # The capacity-blind plan happened to use only locations with room left.
        assert all(not c.at_capacity for c in network if c.code in decision.locations)
    else:
        # Refused: short (or too split) whatever the capacity; when short, it counts the
        # units at locations at capacity too, never fewer than a capacity-bound refusal.
        assert not blind.routed and not decision.accepted and decision == blind
        if decision.deciding_factor == strict.deciding_factor == "out_of_stock":
            counted = {s.sku: s.available for s in strict.shortages}
            for s in decision.shortages:
                assert s.available >= counted.get(s.sku, 0)
