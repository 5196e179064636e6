"""Which topics an event goes to, who may follow which topic, which pages may connect."""

from __future__ import annotations

import pytest

from comptoir.realtime.service import origin_allowed
from comptoir.realtime.topics import (
    Access,
    Topic,
    access,
    event_topics,
    parse_topic,
    presenter_for,
    stock_view,
)


def test_stock_change_goes_to_its_sku_and_its_location() -> None:
    assert event_topics("inventory", "TEE-BLK-M@ST-LYON-01",
                        {"sku": "TEE-BLK-M", "location": "ST-LYON-01", "on_hand": 4}) == (
        "inventory:TEE-BLK-M", "location:ST-LYON-01", "inventory")
    # A SKU may itself contain '@': the subject is split at the last one.
    assert event_topics("inventory", "GIFT@CARD@WH-PARIS", {}) == (
        "inventory:GIFT@CARD", "location:WH-PARIS", "inventory")


def test_order_event_goes_to_the_order_every_location_involved_and_all_orders() -> None:
    data = {"locations": ["WH-PARIS", "ST-LYON-01", "WH-PARIS"]}
    assert event_topics("order", "CMP-2026-000001", data) == (
        "order:CMP-2026-000001", "location:ST-LYON-01", "location:WH-PARIS", "orders")


def test_order_event_without_a_location_list_is_placed_by_its_allocations_and_pickup() -> None:
    data = {"pickup_location": "ST-LYON-01",
            "allocations": [{"sku": "TEE", "location": "WH-LYON", "quantity": 1}]}
    assert event_topics("order", "CMP-2026-000002", data) == (
        "order:CMP-2026-000002", "location:ST-LYON-01", "location:WH-LYON", "orders",
        "inventory:TEE", "inventory")
    assert event_topics("order", "CMP-2026-000003", {"reason": "fraud check"}) == (
        "order:CMP-2026-000003", "orders")


def test_other_events_go_to_their_log() -> None:
    assert event_topics("catalog", "0192-uuid", {"name": "T-shirt"}) == ("catalog",)


@pytest.mark.parametrize("name", [
    "orders", "order:CMP-2026-000001", "location:ST-LYON-01", "inventory:TEE-BLK-M",
    "track:-Zx9_abc", "catalog", "inventory:TÉE+BLK:M", "inventory:GIFT@CARD", "inventory",
])
def test_topics_a_client_may_name_are_read_back_unchanged(name: str) -> None:
    topic = parse_topic(name)
    assert topic is not None and topic.name == name


@pytest.mark.parametrize("name", [
    "", "order:", "order", "location", "Orders", "order:has space", "nope:thing",
    "inventory:" + "x" * 300, "order:../../etc", "order:CMP\n1", "inventory:50%",
])
def test_malformed_topics_are_not_topics(name: str) -> None:
    assert parse_topic(name) is None


def _access(role: str | None, name: str, location: str | None = None) -> Access:
    topic = parse_topic(name)
    assert topic is not None
    return access(role, location, topic)


def test_managers_follow_everything_but_need_the_token_for_a_tracking_topic() -> None:
    for role in ("admin", "manager"):
        for name in ("orders", "order:CMP-1", "location:WH-PARIS", "inventory:TEE", "inventory",
                     "catalog"):
            assert _access(role, name) is Access.GRANTED
        assert _access(role, "track:abc") is Access.BY_TRACKING_TOKEN


def test_associate_follows_their_location_stock_and_orders_seen_there() -> None:
    lyon = "ST-LYON-01"
    assert _access("associate", "location:ST-LYON-01", lyon) is Access.GRANTED
    assert _access("associate", "location:ST-PARIS-01", lyon) is Access.REFUSED
    assert _access("associate", "location:ST-LYON-01", None) is Access.REFUSED
    assert _access("associate", "inventory:TEE", lyon) is Access.GRANTED
    assert _access("associate", "order:CMP-1", lyon) is Access.IF_ORDER_VISIBLE
    assert _access("associate", "orders", lyon) is Access.REFUSED
    assert _access("associate", "catalog", lyon) is Access.GRANTED
    assert _access("associate", "webhooks", lyon) is Access.REFUSED


def test_channel_key_follows_only_orders_and_anonymous_only_tracking() -> None:
    assert _access("channel", "order:CMP-1") is Access.IF_ORDER_VISIBLE
    for name in ("orders", "location:WH-PARIS", "inventory:TEE", "inventory", "catalog"):
        assert _access("channel", name) is Access.REFUSED
        assert _access(None, name) is Access.REFUSED
    assert _access(None, "order:CMP-1") is Access.REFUSED
    assert _access(None, "track:abc") is Access.BY_TRACKING_TOKEN
    assert Topic("track", "abc").name == "track:abc"


@pytest.mark.parametrize(("origin", "host", "public_url", "allowed"), [
    (None, "shop.example", "", True),  # no browser, nothing to check
    ("https://oms.example", "oms.example", "", True),
    ("https://oms.example:443", "oms.example", "", True),
    ("http://127.0.0.1:8000", "127.0.0.1:8000", "", True),
    ("http://127.0.0.1:8001", "127.0.0.1:8000", "", False),
    ("https://evil.example", "oms.example", "", False),
    ("https://oms.example.evil.example", "oms.example", "", False),
    ("null", "oms.example", "", False),
    ("https://oms.example", "10.0.0.5:8000", "https://oms.example", True),
    ("http://oms.example", "10.0.0.5:8000", "https://oms.example", False),
    ("https://evil.example", "10.0.0.5:8000", "https://oms.example", False),
])
def test_only_pages_of_this_server_may_open_the_feed(
    origin: str | None, host: str, public_url: str, allowed: bool
) -> None:
    assert origin_allowed(origin, host, public_url) is allowed


def test_order_event_that_moves_stock_also_goes_to_each_sku_and_all_stock() -> None:
    captured = {"allocations": [{"sku": "TEE", "location": "WH-LYON", "quantity": 1},
                                {"sku": "CAP", "location": "WH-LYON", "quantity": 2}]}
    assert event_topics("order", "CMP-2026-000004", captured) == (
        "order:CMP-2026-000004", "location:WH-LYON", "orders",
        "inventory:CAP", "inventory:TEE", "inventory")
    edited = {"locations": ["WH-LYON"], "lines": [{"sku": "TEE", "from": 1, "to": 2}],
              "reserved": [{"sku": "TEE", "location": "WH-LYON", "quantity": 1}],
              "released": []}
    assert event_topics("order", "CMP-2026-000004", edited)[-2:] == (
        "inventory:TEE", "inventory")
    # A note or a cancellation with nothing left to give back changes no stock.
    assert event_topics("order", "CMP-2026-000004",
                        {"locations": ["WH-LYON"], "released": []}) == (
        "order:CMP-2026-000004", "location:WH-LYON", "orders")


def test_stock_topics_carry_an_order_event_s_reservations_and_nothing_of_the_order() -> None:
    edited = {"version": 3, "note": "call first",
              "delivery": {"to": {"address": {"name": "Ada Byron", "line1": "1 rue X"}}},
              "lines": [{"sku": "TEE", "from": 1, "to": 2}],
              "reserved": [{"sku": "TEE", "location": "WH-LYON", "quantity": 1}],
              "released": [{"sku": "CAP", "location": "ST-LYON-01", "quantity": 1}]}
    topic = parse_topic("inventory:TEE")
    assert topic is not None
    present = presenter_for(topic)
    assert present is not None
    assert present("order.edited", edited) == {
        "reserved": [{"sku": "TEE", "location": "WH-LYON", "quantity": 1}],
        "released": [{"sku": "CAP", "location": "ST-LYON-01", "quantity": 1}]}
    level = {"sku": "TEE", "location": "WH-LYON", "on_hand": 4, "available": 3}
    assert present("inventory.changed", level) == level
    assert stock_view("inventory.changed", level) is level
    # Order topics are delivered as recorded to those who may follow them.
    for name in ("orders", "order:CMP-2026-000004", "location:WH-LYON"):
        other = parse_topic(name)
        assert other is not None and presenter_for(other) is None
