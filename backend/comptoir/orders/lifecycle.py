"""The order state machine: which moves are allowed from which state. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from comptoir.errors import Conflict

__all__ = [
    "ALL_LEFT",
    "EDITABLE",
    "HOLD_REASONS",
    "INITIAL",
    "Action",
    "IllegalTransition",
    "Status",
    "allowed_actions",
    "can_edit",
    "check_editable",
    "move",
]


class Status(StrEnum):
    # Accepted with its units held, but no location that could serve it has capacity left
    # today: routed (then confirmed) when capacity frees.
    AWAITING_CAPACITY = "awaiting_capacity"
    CONFIRMED = "confirmed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    IN_FULFILLMENT = "in_fulfillment"
    READY_FOR_PICKUP = "ready_for_pickup"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"


class Action(StrEnum):
    ROUTE = "route"  # a location with capacity takes an order that was waiting for one
    HOLD = "hold"
    RELEASE = "release"
    CANCEL = "cancel"
    START_FULFILLMENT = "start_fulfillment"
    MARK_READY_FOR_PICKUP = "mark_ready_for_pickup"
    SHIP_PART = "ship_part"
    SHIP = "ship"
    COMPLETE = "complete"


# The states a captured order starts in: confirmed (routed), or waiting for capacity. No
# work has started on it yet: nothing of it can have left.
INITIAL = (Status.AWAITING_CAPACITY, Status.CONFIRMED)

# The states in which every unit still ordered has left (shipped or handed over).
ALL_LEFT = frozenset({Status.SHIPPED, Status.COMPLETED})

HOLD_REASONS = ("address_check", "suspected_fraud", "customer_request", "stock_problem")

# Where each action leads from each state. ``None`` as a target: back to the state the
# order was held from (release).
_TRANSITIONS: dict[Status, dict[Action, Status | None]] = {
    Status.AWAITING_CAPACITY: {
        Action.ROUTE: Status.CONFIRMED,
        Action.HOLD: Status.ON_HOLD,
        Action.CANCEL: Status.CANCELLED,
    },
    Status.CONFIRMED: {
        Action.HOLD: Status.ON_HOLD,
        Action.CANCEL: Status.CANCELLED,
        Action.START_FULFILLMENT: Status.IN_FULFILLMENT,
    },
    Status.ON_HOLD: {
        Action.RELEASE: None,
        Action.CANCEL: Status.CANCELLED,
    },
    Status.IN_FULFILLMENT: {
        Action.HOLD: Status.ON_HOLD,
        Action.CANCEL: Status.CANCELLED,
        Action.MARK_READY_FOR_PICKUP: Status.READY_FOR_PICKUP,
        Action.SHIP_PART: Status.PARTIALLY_SHIPPED,
        Action.SHIP: Status.SHIPPED,
    },
    Status.READY_FOR_PICKUP: {
        Action.COMPLETE: Status.COMPLETED,  # handed over at the counter
        Action.CANCEL: Status.CANCELLED,  # not collected in time
    },
    Status.PARTIALLY_SHIPPED: {
        Action.SHIP_PART: Status.PARTIALLY_SHIPPED,
        Action.SHIP: Status.SHIPPED,
    },
    Status.SHIPPED: {
        Action.COMPLETE: Status.COMPLETED,
    },
    Status.CANCELLED: {},
    Status.COMPLETED: {},
}

# Lines, quantities and delivery may change until fulfillment starts.
EDITABLE = frozenset({Status.AWAITING_CAPACITY, Status.CONFIRMED, Status.ON_HOLD})


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "Illegal transition"


@dataclass(frozen=True, slots=True)
class Move:
    """The outcome of an allowed action: the new state and what a later release returns to."""

    status: Status
    held_from: Status | None


def _status(value: str | Status) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise ValueError(f"unknown order status {value!r}") from None


def allowed_actions(status: str | Status) -> list[str]:
    """The actions allowed from ``status``, in the table's order."""
    return [action.value for action in _TRANSITIONS[_status(status)]]


def move(status: str | Status, action: str | Action, *, held_from: str | None = None) -> Move:
    """Apply ``action`` to an order in ``status``; IllegalTransition (409) if not allowed."""
    current = _status(status)
    targets = _TRANSITIONS[current]
    try:
        chosen = Action(action)
    except ValueError:
        chosen = None
    if chosen is None or chosen not in targets:
        raise IllegalTransition(
            f"An order that is {current.value.replace('_', ' ')} cannot "
            f"{str(action).replace('_', ' ')}; allowed: "
            f"{', '.join(allowed_actions(current)) or 'nothing (final state)'}.",
            current_status=current.value,
            action=str(action),
            allowed=allowed_actions(current),
        )
    target = targets[chosen]
    if target is None:
        # Release: back to where the hold started (confirmed when that is unknown).
        return Move(status=_status(held_from) if held_from else Status.CONFIRMED, held_from=None)
    if target is Status.ON_HOLD:
        return Move(status=target, held_from=current)
    return Move(status=target, held_from=None)


def can_edit(status: str | Status) -> bool:
    return _status(status) in EDITABLE


def check_editable(status: str | Status, what: str = "edit") -> None:
    """Refuse changes to lines and delivery once fulfillment has started (or the order ended)."""
    current = _status(status)
    if current not in EDITABLE:
        raise IllegalTransition(
            f"An order that is {current.value.replace('_', ' ')} can no longer be changed "
            f"({what}); only orders waiting for capacity, confirmed or on hold can.",
            current_status=current.value,
            action=what,
            allowed=allowed_actions(current),
        )
