"""The order state machine, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comptoir.orders import lifecycle
from comptoir.orders.lifecycle import Action, IllegalTransition, Status


def test_every_state_of_the_issue_exists() -> None:
    assert {s.value for s in Status} >= {
        "confirmed", "on_hold", "cancelled", "in_fulfillment", "ready_for_pickup",
        "partially_shipped", "shipped", "completed"}


def test_a_confirmed_order_can_be_held_cancelled_or_fulfilled() -> None:
    assert lifecycle.allowed_actions("confirmed") == ["hold", "cancel", "start_fulfillment"]
    assert lifecycle.move("confirmed", "cancel").status is Status.CANCELLED
    assert lifecycle.move("confirmed", "start_fulfillment").status is Status.IN_FULFILLMENT


def test_release_returns_to_where_the_hold_started() -> None:
    held = lifecycle.move("in_fulfillment", "hold")
    assert held.status is Status.ON_HOLD
    assert held.held_from is Status.IN_FULFILLMENT
    assert lifecycle.move("on_hold", "release", held_from="in_fulfillment").status is (
        Status.IN_FULFILLMENT)
    assert lifecycle.move("on_hold", "release").status is Status.CONFIRMED


@pytest.mark.parametrize("final", ["cancelled", "completed"])
def test_final_states_allow_nothing(final: str) -> None:
    assert lifecycle.allowed_actions(final) == []
    for action in Action:
        with pytest.raises(IllegalTransition):
            lifecycle.move(final, action)


def test_a_refused_move_says_which_moves_are_allowed() -> None:
    with pytest.raises(IllegalTransition) as refused:
        lifecycle.move("shipped", "cancel")
    error = refused.value
    assert error.status_code == 409
    assert error.code == "illegal_transition"
    assert error.extra["allowed"] == ["complete"]
    assert error.extra["current_status"] == "shipped"
    assert "complete" in error.detail


def test_an_unknown_action_is_refused_like_an_illegal_one() -> None:
    with pytest.raises(IllegalTransition):
        lifecycle.move("confirmed", "teleport")


def test_holding_twice_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        lifecycle.move("on_hold", "hold")


def test_shipping_goes_through_partial_shipments_to_completion() -> None:
    status = Status.IN_FULFILLMENT
    for action in ("ship_part", "ship_part", "ship", "complete"):
        status = lifecycle.move(status, action).status
    assert status is Status.COMPLETED


def test_pickup_goes_from_ready_to_completed_or_cancelled() -> None:
    ready = lifecycle.move("in_fulfillment", "mark_ready_for_pickup").status
    assert ready is Status.READY_FOR_PICKUP
    assert lifecycle.move(ready, "complete").status is Status.COMPLETED
    assert lifecycle.move(ready, "cancel").status is Status.CANCELLED


def test_edits_stop_once_fulfillment_starts() -> None:
    assert lifecycle.can_edit("confirmed") and lifecycle.can_edit("on_hold")
    for status in ("in_fulfillment", "ready_for_pickup", "shipped", "cancelled", "completed"):
        assert not lifecycle.can_edit(status)
        with pytest.raises(IllegalTransition):
            lifecycle.check_editable(status)


def test_every_target_of_the_table_is_a_known_state_reachable_from_capture() -> None:
    reachable = set(lifecycle.INITIAL)
    frontier = list(lifecycle.INITIAL)
    while frontier:
        status = frontier.pop()
        for action in lifecycle.allowed_actions(status):
            target = lifecycle.move(status, action, held_from="confirmed").status
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(Status)


# The moves of an order waiting for capacity, and what each leaves it in.
WAITING_MOVES = [
    ("route", Status.CONFIRMED),
    ("hold", Status.ON_HOLD),
    ("cancel", Status.CANCELLED),
]


@pytest.mark.parametrize(("action", "target"), WAITING_MOVES)
def test_an_order_waiting_for_capacity_moves_only_as_the_table_says(
    action: str, target: Status
) -> None:
    assert lifecycle.move("awaiting_capacity", action).status is target


def test_an_order_waiting_for_capacity_allows_nothing_else() -> None:
    assert lifecycle.allowed_actions("awaiting_capacity") == ["route", "hold", "cancel"]
    for action in set(Action) - {Action(a) for a, _target in WAITING_MOVES}:
        with pytest.raises(IllegalTransition) as refused:
            lifecycle.move("awaiting_capacity", action)
        assert refused.value.extra["allowed"] == ["route", "hold", "cancel"]


def test_a_waiting_order_held_goes_back_to_waiting_on_release_and_stays_editable() -> None:
    held = lifecycle.move("awaiting_capacity", "hold")
    assert held.held_from is Status.AWAITING_CAPACITY
    assert lifecycle.move("on_hold", "release", held_from=held.held_from).status is (
        Status.AWAITING_CAPACITY)
    assert lifecycle.can_edit("awaiting_capacity")


def test_only_a_waiting_order_is_routed_and_nothing_goes_back_to_waiting() -> None:
    assert "route" in lifecycle.allowed_actions(Status.AWAITING_CAPACITY)
    for status in set(Status) - {Status.AWAITING_CAPACITY}:
        assert "route" not in lifecycle.allowed_actions(status)
        for action in lifecycle.allowed_actions(status):
            if action != "release":
                assert lifecycle.move(status, action).status is not Status.AWAITING_CAPACITY


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(lifecycle.INITIAL),
       st.lists(st.sampled_from(list(Action)), max_size=12))
def test_any_sequence_of_moves_from_capture_stays_in_the_table(
    start: Status, actions: list[Action]
) -> None:
    status, held_from = start, None
    for action in actions:
        allowed = lifecycle.allowed_actions(status)
        if action.value not in allowed:
            with pytest.raises(IllegalTransition):
                lifecycle.move(status, action, held_from=held_from)
            continue
        moved = lifecycle.move(status, action, held_from=held_from)
        if action is Action.RELEASE:
            assert moved.status is (held_from or Status.CONFIRMED)
        if moved.status is Status.AWAITING_CAPACITY:  # only capture or a release lead there
            assert action is Action.RELEASE and held_from is Status.AWAITING_CAPACITY
        status = moved.status
        held_from = moved.held_from if moved.status is Status.ON_HOLD else None
