"""Where lines are reserved, from an availability snapshot (orders/sourcing.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from comptoir.orders.sourcing import Allocation, Shortage, Site, plan_pickup, plan_shipment

SITES = [Site("WH-PARIS", "warehouse"), Site("WH-LYON", "warehouse"),
         Site("ST-LYON-01", "store"), Site("ST-PARIS-01", "store")]


def test_pickup_reserves_everything_at_the_store() -> None:
    plan = plan_pickup([("A", 2), ("B", 1)], "ST-LYON-01",
                       {"A": {"ST-LYON-01": 2, "WH-PARIS": 50}, "B": {"ST-LYON-01": 4}})
    assert plan.ok
    assert plan.allocations == (Allocation("A", "ST-LYON-01", 2), Allocation("B", "ST-LYON-01", 1))


def test_pickup_shortage_counts_only_the_store() -> None:
    plan = plan_pickup([("A", 3)], "ST-LYON-01", {"A": {"ST-LYON-01": 2, "WH-PARIS": 50}})
    assert plan.shortages == (Shortage("A", 3, 2),)
    assert plan.allocations == ()


def test_one_location_with_everything_wins() -> None:
    stock = {"A": {"WH-PARIS": 5, "ST-PARIS-01": 5}, "B": {"ST-PARIS-01": 1, "WH-LYON": 1}}
    plan = plan_shipment([("A", 1), ("B", 1)], SITES, stock)
    assert plan.locations == ["ST-PARIS-01"]


def test_warehouses_come_before_stores_then_codes_decide() -> None:
    stock = {"A": {"WH-PARIS": 5, "WH-LYON": 5, "ST-LYON-01": 5}}
    assert plan_shipment([("A", 1)], SITES, stock).locations == ["WH-LYON"]
    stock = {"A": {"WH-PARIS": 5, "ST-LYON-01": 5}}
    assert plan_shipment([("A", 1)], SITES, stock).locations == ["WH-PARIS"]


def test_locations_the_order_already_uses_are_preferred() -> None:
    stock = {"A": {"WH-PARIS": 5, "WH-LYON": 5}}
    plan = plan_shipment([("A", 1)], SITES, stock, preferred=["WH-PARIS"])
    assert plan.locations == ["WH-PARIS"]


def test_the_fewest_locations_are_used_when_none_has_everything() -> None:
    # Ranked order would take WH-LYON (A), WH-PARIS (B) and a store (C): three locations.
    # The store has B and C together, so two suffice.
    stock = {"A": {"WH-LYON": 1}, "B": {"WH-PARIS": 1, "ST-LYON-01": 1},
             "C": {"ST-LYON-01": 1}}
    plan = plan_shipment([("A", 1), ("B", 1), ("C", 1)], SITES, stock)
    assert plan.locations == ["ST-LYON-01", "WH-LYON"]


def test_a_line_is_split_when_no_location_holds_all_of_it() -> None:
    plan = plan_shipment([("A", 5)], SITES, {"A": {"WH-PARIS": 3, "WH-LYON": 3}})
    assert plan.allocations == (Allocation("A", "WH-LYON", 3), Allocation("A", "WH-PARIS", 2))


def test_shortages_name_every_short_line_with_the_total_available() -> None:
    plan = plan_shipment([("A", 5), ("B", 1), ("C", 1)], SITES,
                         {"A": {"WH-PARIS": 3, "WH-LYON": 1}, "C": {"WH-LYON": 1}})
    assert plan.shortages == (Shortage("A", 5, 4), Shortage("B", 1, 0))


def test_stock_at_locations_that_do_not_ship_does_not_count() -> None:
    plan = plan_shipment([("A", 1)], [Site("WH-PARIS", "warehouse")], {"A": {"ST-X": 9}})
    assert plan.shortages == (Shortage("A", 1, 0),)


snapshots = st.dictionaries(
    st.sampled_from(["A", "B", "C", "D"]),
    st.dictionaries(st.sampled_from([s.code for s in SITES]), st.integers(0, 6)),
)
demands = st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), st.integers(1, 8),
                          min_size=1).map(lambda d: list(d.items()))


@given(demands, snapshots)
def test_a_plan_covers_each_line_exactly_within_what_is_available(
    demand: list[tuple[str, int]], stock: dict[str, dict[str, int]]
) -> None:
    plan = plan_shipment(demand, SITES, stock)
    totals = {sku: sum(stock.get(sku, {}).values()) for sku, _ in demand}
    if not plan.ok:
        assert {s.sku for s in plan.shortages} == {sku for sku, q in demand if totals[sku] < q}
        return
    for sku, quantity in demand:
        assert sum(a.quantity for a in plan.allocations if a.sku == sku) == quantity
    for a in plan.allocations:
        assert 0 < a.quantity <= stock[a.sku][a.location]
    assert len({(a.sku, a.location) for a in plan.allocations}) == len(plan.allocations)


@given(demands, snapshots)
def test_one_location_is_used_whenever_one_could_serve_everything(
    demand: list[tuple[str, int]], stock: dict[str, dict[str, int]]
) -> None:
    plan = plan_shipment(demand, SITES, stock)
    one_will_do = any(all(stock.get(sku, {}).get(site.code, 0) >= q for sku, q in demand)
                      for site in SITES)
    if one_will_do:
        assert len(plan.locations) == 1
    # And the same snapshot always gives the same plan.
    assert plan_shipment(demand, SITES, stock) == plan
