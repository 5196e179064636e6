"""The routing scorer, without a database: who wins, who is skipped, when an order splits."""

from __future__ import annotations

import random
from dataclasses import replace

from comptoir.routing.scoring import Allocation, Candidate, Delivery, Policy, Shortage, route

# A customer in Lyon's Presqu'île, and locations around France.
LYON_CUSTOMER = Delivery("ship", latitude=45.764, longitude=4.836)
ST_LYON_02 = Candidate("ST-LYON-02", "store", 45.770, 4.860)  # ~2 km
ST_LYON_05 = Candidate("ST-LYON-05", "store", 45.740, 4.880)  # ~4 km
WH_LYON = Candidate("WH-LYON", "warehouse", 45.730, 4.920)  # ~8 km
WH_MARSEILLE = Candidate("WH-MARSEILLE", "warehouse", 43.350, 5.330)  # ~270 km
WH_PARIS = Candidate("WH-PARIS", "warehouse", 48.930, 2.360)  # ~400 km
NETWORK = [ST_LYON_02, ST_LYON_05, WH_LYON, WH_MARSEILLE, WH_PARIS]


def everywhere(
    *skus: str, units: int = 10, at: list[Candidate] = NETWORK
) -> dict[str, dict[str, int]]:
    return {sku: {c.code: units for c in at} for sku in skus}


def outcome(decision, code: str):  # type: ignore[no-untyped-def]
    return next(c for c in decision.candidates if c.code == code)


def test_the_nearest_location_with_every_item_wins() -> None:
    decision = route([("TEE", 2), ("CAP", 1)], LYON_CUSTOMER, NETWORK,
                     everywhere("TEE", "CAP"), Policy())

    assert decision.routed
    assert decision.allocations == (Allocation("ST-LYON-02", "TEE", 2),
                                    Allocation("ST-LYON-02", "CAP", 1))
    assert decision.deciding_factor == "distance"
    assert decision.reason.startswith("ST-LYON-02: nearest with all items, ")
    assert decision.reason.endswith(" km.")
    assert outcome(decision, "ST-LYON-05").outcome == "lost"
    assert outcome(decision, "ST-LYON-05").reason.startswith("farther: ")


def test_a_nearer_location_missing_an_item_loses_to_one_with_everything() -> None:
    stock = everywhere("TEE", "CAP", at=[WH_LYON, WH_PARIS]) | {}
    stock["TEE"]["ST-LYON-02"] = 5
    stock["CAP"]["ST-LYON-05"] = 1  # has the cap, but only 1 of the 2 tees is wanted... none

    decision = route([("TEE", 2), ("CAP", 2)], LYON_CUSTOMER, NETWORK, stock, Policy())

    assert decision.locations == ["WH-LYON"]
    assert decision.deciding_factor == "distance"
    assert outcome(decision, "ST-LYON-02").reason == "missing CAP"
    assert outcome(decision, "ST-LYON-05").reason == "missing TEE; short of CAP (1 of 2)"


def test_a_store_at_its_daily_capacity_is_skipped() -> None:
    full = replace(ST_LYON_02, daily_capacity=30, capacity_left=0)
    decision = route([("TEE", 1)], LYON_CUSTOMER, [full, *NETWORK[1:]], everywhere("TEE"),
                     Policy())

    assert decision.locations == ["ST-LYON-05"]
    skipped = outcome(decision, "ST-LYON-02")
    assert skipped.outcome == "excluded"
    assert skipped.reason == "at capacity (30 of 30 orders today)"
    assert skipped.score is not None and skipped.score < decision.score  # nearer, yet skipped

    one_left = replace(ST_LYON_02, daily_capacity=30, capacity_left=1)
    again = route([("TEE", 1)], LYON_CUSTOMER, [one_left, *NETWORK[1:]], everywhere("TEE"),
                  Policy())
    assert again.locations == ["ST-LYON-02"]


def test_an_order_is_not_split_when_one_location_has_everything() -> None:
    # The two nearest stores have one item each; a far warehouse has both.
    stock = {"TEE": {"ST-LYON-02": 5, "WH-PARIS": 5}, "CAP": {"ST-LYON-05": 5, "WH-PARIS": 5}}
    decision = route([("TEE", 1), ("CAP", 1)], LYON_CUSTOMER, NETWORK, stock,
                     Policy(split_penalty=0))

    assert decision.locations == ["WH-PARIS"]
    assert decision.deciding_factor == "only_option"
    assert decision.reason.startswith("WH-PARIS: the only location with all items, ")


def test_an_order_splits_only_when_no_single_location_can_serve_it() -> None:
    stock = {"TEE": {"ST-LYON-02": 5, "WH-PARIS": 5}, "CAP": {"WH-LYON": 5, "WH-MARSEILLE": 5}}
    decision = route([("TEE", 1), ("CAP", 1)], LYON_CUSTOMER, NETWORK, stock, Policy())

    assert decision.routed
    assert decision.deciding_factor == "split"
    assert sorted(decision.allocations, key=lambda a: a.sku) == [
        Allocation("WH-LYON", "CAP", 1), Allocation("ST-LYON-02", "TEE", 1)]
    assert decision.reason.startswith("Split over ST-LYON-02 and WH-LYON: no single location "
                                      "has every item")
    assert outcome(decision, "WH-PARIS").reason == "missing CAP; not in the best split"


def test_a_line_is_split_over_locations_when_none_has_enough_units() -> None:
    stock = {"TEE": {"ST-LYON-02": 2, "WH-LYON": 3}}
    decision = route([("TEE", 5)], LYON_CUSTOMER, NETWORK, stock, Policy())

    assert decision.routed
    assert set(decision.allocations) == {Allocation("ST-LYON-02", "TEE", 2),
                                         Allocation("WH-LYON", "TEE", 3)}


def test_an_order_never_splits_beyond_the_maximum_and_says_what_is_short() -> None:
    stock = {"TEE": {"ST-LYON-02": 1}, "CAP": {"WH-LYON": 1}, "MUG": {"WH-PARIS": 1}}
    lines = [("TEE", 1), ("CAP", 1), ("MUG", 1)]

    refused = route(lines, LYON_CUSTOMER, NETWORK, stock, Policy(max_splits=2))
    assert not refused.routed
    assert refused.allocations == ()
    assert refused.deciding_factor == "max_splits"
    assert refused.reason.startswith("Cannot route: no 2 locations together have every item; "
                                     "short: ")
    assert len(refused.shortages) == 1
    assert refused.shortages[0].requested == 1 and refused.shortages[0].available == 0

    allowed = route(lines, LYON_CUSTOMER, NETWORK, stock, Policy(max_splits=3))
    assert allowed.routed and allowed.locations == ["ST-LYON-02", "WH-LYON", "WH-PARIS"]


def test_a_policy_of_one_location_never_splits() -> None:
    stock = {"TEE": {"ST-LYON-02": 1}, "CAP": {"WH-LYON": 1}}
    decision = route([("TEE", 1), ("CAP", 1)], LYON_CUSTOMER, NETWORK, stock,
                     Policy(max_splits=1))

    assert not decision.routed
    assert "the routing policy does not split" in decision.reason


def test_a_high_split_penalty_prefers_fewer_locations_over_nearer_ones() -> None:
    # Three lines: two near stores together cover them with a third; one far warehouse
    # covers two lines and a near store the third.
    stock = {"A": {"ST-LYON-02": 1, "WH-PARIS": 1}, "B": {"ST-LYON-05": 1, "WH-PARIS": 1},
             "C": {"WH-LYON": 1}}
    lines = [("A", 1), ("B", 1), ("C", 1)]
    cheap_splits = route(lines, LYON_CUSTOMER, NETWORK, stock,
                         Policy(max_splits=3, split_penalty=0))
    assert cheap_splits.locations == ["ST-LYON-02", "ST-LYON-05", "WH-LYON"]

    dear_splits = route(lines, LYON_CUSTOMER, NETWORK, stock,
                        Policy(max_splits=3, split_penalty=1000))
    assert dear_splits.locations == ["WH-LYON", "WH-PARIS"]


def test_ties_are_broken_by_location_code_the_same_way_every_time() -> None:
    twins = [Candidate(code, "warehouse", 45.73, 4.92) for code in ("WH-C", "WH-A", "WH-B")]
    stock = everywhere("TEE", at=twins)
    decisions = set()
    for seed in range(20):
        shuffled = twins[:]
        random.Random(seed).shuffle(shuffled)
        shuffled_stock = {"TEE": dict(sorted(stock["TEE"].items(),
                                             key=lambda _kv: random.Random(seed).random()))}
        decisions.add(route([("TEE", 1)], LYON_CUSTOMER, shuffled, shuffled_stock, Policy()))

    assert len(decisions) == 1
    decision = decisions.pop()
    assert decision.locations == ["WH-A"]
    assert decision.deciding_factor == "tie_break"
    assert decision.reason.startswith("WH-A: tied on score with WH-B, first by code, with all "
                                      "items")
    assert outcome(decision, "WH-C").reason == "same score as WH-A, which comes first by code"


def test_the_reason_names_shipping_cost_when_it_decides() -> None:
    near_but_dear = replace(ST_LYON_02, shipping_cost=1200)
    decision = route([("TEE", 1)], LYON_CUSTOMER,
                     [near_but_dear, replace(WH_LYON, shipping_cost=390)],
                     {"TEE": {"ST-LYON-02": 1, "WH-LYON": 1}}, Policy())

    assert decision.locations == ["WH-LYON"]
    assert decision.deciding_factor == "shipping_cost"
    assert decision.reason.startswith("WH-LYON: cheapest to ship (3.90) with all items, ")
    assert outcome(decision, "ST-LYON-02").reason == "costlier to ship: 12.00 vs 3.90"


def test_the_reason_names_priority_when_it_decides() -> None:
    decision = route([("TEE", 1)], LYON_CUSTOMER,
                     [ST_LYON_02, replace(WH_MARSEILLE, priority=5)],
                     {"TEE": {"ST-LYON-02": 1, "WH-MARSEILLE": 1}}, Policy())

    assert decision.locations == ["WH-MARSEILLE"]
    assert decision.deciding_factor == "priority"
    assert decision.reason.startswith("WH-MARSEILLE: highest priority (5) with all items, ")
    assert outcome(decision, "ST-LYON-02").reason == "lower priority: 0 vs 5"


def test_a_postal_code_places_the_customer_in_their_departement() -> None:
    marseille = Delivery("ship", postal_code="13001", country="FR")
    decision = route([("TEE", 1)], marseille, NETWORK, everywhere("TEE"), Policy())

    assert decision.locations == ["WH-MARSEILLE"]
    assert decision.destination == "département 13 (Bouches-du-Rhône)"


def test_coordinates_sent_by_the_channel_win_over_the_postal_code() -> None:
    in_paris = Delivery("ship", latitude=48.86, longitude=2.35, postal_code="13001",
                        country="FR")
    decision = route([("TEE", 1)], in_paris, NETWORK, everywhere("TEE"), Policy())

    assert decision.locations == ["WH-PARIS"]
    assert decision.destination == "coordinates"


def test_an_unknown_delivery_place_scores_no_distance_and_says_so() -> None:
    abroad = Delivery("ship", postal_code="10115", country="DE")
    decision = route([("TEE", 1)], abroad, [WH_PARIS, replace(WH_MARSEILLE, shipping_cost=100)],
                     everywhere("TEE", at=[WH_PARIS, WH_MARSEILLE]), Policy())

    assert decision.destination is None
    assert decision.locations == ["WH-PARIS"]  # cheaper to ship; distance counts for nothing
    assert decision.reason.endswith("; delivery place unknown, distance not scored.")
    assert all(c.distance_points == 0 for c in decision.candidates)


def test_inactive_non_shipping_and_store_locations_are_excluded_with_their_reason() -> None:
    network = [replace(ST_LYON_02, active=False), replace(ST_LYON_05, ships=False), WH_LYON,
               WH_PARIS]
    decision = route([("TEE", 1)], LYON_CUSTOMER, network, everywhere("TEE"), Policy())
    assert decision.locations == ["WH-LYON"]
    assert outcome(decision, "ST-LYON-02").reason == "inactive"
    assert outcome(decision, "ST-LYON-05").reason == "does not ship"

    no_store_shipping = route([("TEE", 1)], LYON_CUSTOMER, NETWORK, everywhere("TEE"),
                              Policy(stores_may_ship=False))
    assert no_store_shipping.locations == ["WH-LYON"]
    assert outcome(no_store_shipping, "ST-LYON-02").reason == (
        "stores do not ship under the routing policy")


def test_channel_safety_stock_keeps_units_back_for_other_channels() -> None:
    stock = {"TEE": {"ST-LYON-02": 2, "WH-LYON": 5}}
    policy = Policy(safety_stock={"marketplace": 2})

    web = route([("TEE", 1)], LYON_CUSTOMER, NETWORK, stock, policy, channel="web")
    assert web.locations == ["ST-LYON-02"]

    market = route([("TEE", 1)], LYON_CUSTOMER, NETWORK, stock, policy, channel="marketplace")
    assert market.locations == ["WH-LYON"]
    assert outcome(market, "ST-LYON-02").reason == (
        "none of the items beyond the channel's safety stock")

    # A location's own rule wins over the channel's rule for every location.
    lenient = replace(ST_LYON_02, safety_stock={"marketplace": 0})
    here = route([("TEE", 1)], LYON_CUSTOMER, [lenient, WH_LYON], stock, policy,
                 channel="marketplace")
    assert here.locations == ["ST-LYON-02"]


def test_not_enough_stock_anywhere_lists_each_short_item() -> None:
    stock = {"TEE": {"WH-LYON": 1, "WH-PARIS": 1}, "CAP": {"WH-LYON": 9}}
    decision = route([("TEE", 3), ("CAP", 1), ("MUG", 1)], LYON_CUSTOMER, NETWORK, stock,
                     Policy())

    assert not decision.routed
    assert decision.deciding_factor == "out_of_stock"
    assert decision.shortages == (Shortage("TEE", 3, 2), Shortage("MUG", 1, 0))
    assert decision.reason == ("Cannot route: not enough stock where orders may ship from: "
                               "TEE (2 of 3), MUG (0 of 1).")


def test_a_pickup_is_served_at_the_chosen_store_only() -> None:
    store = replace(ST_LYON_05, serves_pickups=True)
    pickup = Delivery("pickup", store="ST-LYON-05")
    decision = route([("TEE", 1)], pickup, [ST_LYON_02, store, WH_LYON], everywhere("TEE"),
                     Policy())
    assert decision.routed and decision.locations == ["ST-LYON-05"]
    assert decision.deciding_factor == "pickup"
    assert decision.method == "pickup"

    short = route([("TEE", 3)], pickup, [ST_LYON_02, store, WH_LYON],
                  everywhere("TEE", units=2), Policy())
    assert not short.routed
    assert short.shortages == (Shortage("TEE", 3, 2),)
    assert short.reason == "Cannot route: the pickup store ST-LYON-05 is short of TEE (2 of 3)."

    elsewhere = route([("TEE", 1)], Delivery("pickup", store="WH-LYON"), [store, WH_LYON],
                      everywhere("TEE"), Policy())
    assert not elsewhere.routed
    assert elsewhere.reason == "Cannot route: the pickup store WH-LYON does not serve pickups."


def test_a_pickup_store_at_capacity_still_serves_its_customer_unless_the_policy_says_not() -> None:
    full = replace(ST_LYON_05, serves_pickups=True, daily_capacity=10, capacity_left=0)
    pickup = Delivery("pickup", store="ST-LYON-05")

    assert route([("TEE", 1)], pickup, [full], everywhere("TEE"), Policy()).routed
    strict = route([("TEE", 1)], pickup, [full], everywhere("TEE"),
                   Policy(capacity_applies_to_pickups=True))
    assert not strict.routed
    assert strict.reason == ("Cannot route: the pickup store ST-LYON-05 is at capacity "
                             "(10 of 10 orders today).")


def test_locations_holding_none_of_the_items_are_counted_not_listed() -> None:
    crowd = [Candidate(f"ST-{i:03d}", "store", 45.0 + i / 100, 4.8) for i in range(300)]
    decision = route([("TEE", 1)], LYON_CUSTOMER, [*crowd, WH_LYON],
                     {"TEE": {"WH-LYON": 1}}, Policy())

    assert decision.locations == ["WH-LYON"]
    assert [c.code for c in decision.candidates] == ["WH-LYON"]
    assert decision.without_stock == 300


def test_the_split_search_finds_the_one_working_pair_among_hundreds_of_locations() -> None:
    # Hundreds of stores each have one of the two items; only a far pair has enough units.
    crowd = [Candidate(f"ST-{i:03d}", "store", 45.7 + i / 1000, 4.8) for i in range(400)]
    stock: dict[str, dict[str, int]] = {"TEE": {}, "CAP": {}}
    for i, c in enumerate(crowd):
        stock["TEE" if i % 2 else "CAP"][c.code] = 1
    stock["TEE"]["WH-PARIS"] = 3
    stock["CAP"]["WH-MARSEILLE"] = 3

    decision = route([("TEE", 3), ("CAP", 3)], LYON_CUSTOMER, [*crowd, WH_PARIS, WH_MARSEILLE],
                     stock, Policy(max_splits=2))

    assert decision.routed
    assert decision.locations == ["WH-MARSEILLE", "WH-PARIS"]


def test_an_order_with_the_same_sku_twice_is_routed_as_one_line() -> None:
    decision = route([("TEE", 1), ("TEE", 2)], LYON_CUSTOMER, NETWORK,
                     {"TEE": {"WH-LYON": 3, "ST-LYON-02": 2}}, Policy())

    assert decision.allocations == (Allocation("WH-LYON", "TEE", 3),)


def test_a_decision_describes_the_best_candidates_and_counts_the_rest() -> None:
    crowd = [Candidate(f"ST-{i:03d}", "store", 45.7 + i / 1000, 4.8) for i in range(120)]
    stock = everywhere("TEE", at=crowd)

    short = route([("TEE", 1)], LYON_CUSTOMER, crowd, stock, Policy(), listed=10)
    assert len(short.candidates) == 10 and short.not_listed == 110
    assert short.candidates[0].outcome == "chosen"
    scores = [c.score for c in short.candidates]
    assert scores == sorted(scores)  # the chosen one, then the runners-up by score

    everything = route([("TEE", 1)], LYON_CUSTOMER, crowd, stock, Policy(), listed=None)
    assert len(everything.candidates) == 120 and everything.not_listed == 0
    assert everything.candidates[:10] == short.candidates


def test_a_large_order_over_hundreds_of_locations_is_decided_within_the_maximum_splits() -> None:
    rnd = random.Random(5)
    crowd = [Candidate(f"ST-{i:03d}", "store", 43 + rnd.random() * 7, -1 + rnd.random() * 8)
             for i in range(500)]
    skus = [f"SKU-{i:02d}" for i in range(40)]
    stock = {sku: {c.code: rnd.randint(0, 3) for c in rnd.sample(crowd, 80)} for sku in skus}
    # One location has everything except one line, which another has: a split of two.
    stock = {sku: {**levels, "ST-007": 5} for sku, levels in stock.items()}
    stock["SKU-39"]["ST-007"] = 0
    stock["SKU-39"]["ST-123"] = 9

    for max_splits in (2, 4):
        decision = route([(sku, 2) for sku in skus], LYON_CUSTOMER, crowd, stock,
                         Policy(max_splits=max_splits))
        assert decision.routed
        assert 2 <= len(decision.locations) <= max_splits
