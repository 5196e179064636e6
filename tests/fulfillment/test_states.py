"""The fulfillment state table and how an order's status follows its fulfillments."""

from __future__ import annotations

import pytest

from comptoir.fulfillment import states
from comptoir.orders.lifecycle import Action as OrderAction
from comptoir.orders.lifecycle import IllegalTransition
from comptoir.orders.lifecycle import Status as OrderStatus


def test_a_shipping_fulfillment_goes_pick_pack_ship() -> None:
    assert states.move("new", "ship", "pick") == states.Status.PICKING
    assert states.move("picking", "ship", "pack") == states.Status.PACKED
    assert states.move("packed", "ship", "ship") == states.Status.PARTIALLY_SHIPPED
    assert states.move("partially_shipped", "ship", "ship") == states.Status.PARTIALLY_SHIPPED


def test_a_pickup_is_never_shipped_and_a_parcel_never_goes_to_the_counter() -> None:
    assert "ship" not in states.allowed_actions("packed", "pickup")
    assert "ready-for-pickup" in states.allowed_actions("packed", "pickup")
    assert "ready-for-pickup" not in states.allowed_actions("packed", "ship")
    with pytest.raises(IllegalTransition) as refused:
        states.move("packed", "pickup", "ship")
    assert refused.value.extra["allowed"] == ["ready-for-pickup", "reject", "cancel"]


def test_an_unpicked_fulfillment_cannot_be_shipped_and_says_what_it_can_do() -> None:
    with pytest.raises(IllegalTransition) as refused:
        states.move("new", "ship", "ship")
    assert refused.value.extra["allowed"] == ["pick", "reject", "cancel"]


def test_final_states_allow_nothing() -> None:
    for status in ("shipped", "handed_over", "rejected", "cancelled"):
        assert states.allowed_actions(status, "ship") == []
        assert states.allowed_actions(status, "pickup") == []


def test_an_order_is_shipped_only_when_every_parcel_has_left() -> None:
    assert states.order_target("in_fulfillment", [("ship", "shipped"), ("ship", "packed")]) \
        == OrderStatus.PARTIALLY_SHIPPED
    assert states.order_target("partially_shipped", [("ship", "shipped"), ("ship", "shipped")]) \
        == OrderStatus.SHIPPED
    # A location that rejected everything does not hold the order back.
    assert states.order_target("partially_shipped", [("ship", "shipped"), ("ship", "rejected")]) \
        == OrderStatus.SHIPPED


def test_an_order_is_in_fulfillment_once_any_work_starts_and_not_before() -> None:
    assert states.order_target("confirmed", [("ship", "new"), ("ship", "new")]) \
        == OrderStatus.CONFIRMED
    assert states.order_target("confirmed", [("ship", "picking"), ("ship", "new")]) \
        == OrderStatus.IN_FULFILLMENT


def test_a_pickup_order_is_ready_then_completed() -> None:
    assert states.order_target("in_fulfillment", [("pickup", "ready_for_pickup")]) \
        == OrderStatus.READY_FOR_PICKUP
    assert states.order_target("ready_for_pickup", [("pickup", "handed_over")]) \
        == OrderStatus.COMPLETED


def test_the_order_walks_its_own_lifecycle_to_the_new_status() -> None:
    assert states.order_moves("confirmed", OrderStatus.PARTIALLY_SHIPPED) == [
        OrderAction.START_FULFILLMENT, OrderAction.SHIP_PART]
    assert states.order_moves("partially_shipped", OrderStatus.SHIPPED) == [OrderAction.SHIP]
    assert states.order_moves("shipped", OrderStatus.SHIPPED) == []


def test_tracking_links_come_from_the_carrier_template() -> None:
    template = "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking}"
    assert states.tracking_url(template, "6A123") == (
        "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123")
    # The number cannot change the link's meaning: it is quoted into it.
    assert states.tracking_url(template, "6A 1&x=2") == (
        "https://www.laposte.fr/outils/suivre-vos-envois?code=6A%201%26x%3D2")
    assert states.tracking_url("", "X") is None
