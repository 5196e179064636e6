"""The fulfillment state machine and how an order's status follows its fulfillments. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from urllib.parse import quote

from comptoir.orders.lifecycle import Action as OrderAction
from comptoir.orders.lifecycle import IllegalTransition
from comptoir.orders.lifecycle import Status as OrderStatus

__all__ = [
    "Action",
    "Status",
    "allowed_actions",
    "move",
    "order_moves",
    "order_target",
    "tracking_url",
]


class Status(StrEnum):
    NEW = "new"
    PICKING = "picking"
    PACKED = "packed"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    HANDED_OVER = "handed_over"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Action(StrEnum):
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    READY_FOR_PICKUP = "ready-for-pickup"
    HANDOVER = "handover"
    REJECT = "reject"
    CANCEL = "cancel"


# Where each action leads. SHIP and REJECT end where the quantities left say (see the
# service): the target here is where they go when units are still to be sent.
_TRANSITIONS: dict[Status, dict[Action, Status]] = {
    Status.NEW: {Action.PICK: Status.PICKING, Action.REJECT: Status.NEW,
                 Action.CANCEL: Status.CANCELLED},
    Status.PICKING: {Action.PACK: Status.PACKED, Action.READY_FOR_PICKUP: Status.READY_FOR_PICKUP,
                     Action.REJECT: Status.PICKING, Action.CANCEL: Status.CANCELLED},
    Status.PACKED: {Action.SHIP: Status.PARTIALLY_SHIPPED,
                    Action.READY_FOR_PICKUP: Status.READY_FOR_PICKUP,
                    Action.REJECT: Status.PACKED, Action.CANCEL: Status.CANCELLED},
    Status.PARTIALLY_SHIPPED: {Action.SHIP: Status.PARTIALLY_SHIPPED,
                               Action.REJECT: Status.PARTIALLY_SHIPPED},
    Status.READY_FOR_PICKUP: {Action.HANDOVER: Status.HANDED_OVER,
                              Action.CANCEL: Status.CANCELLED},
    Status.SHIPPED: {},
    Status.HANDED_OVER: {},
    Status.REJECTED: {},
    Status.CANCELLED: {},
}

# Shipping work never goes to the counter, and pickups are never given to a carrier.
_ONLY_FOR = {Action.SHIP: "ship", Action.READY_FOR_PICKUP: "pickup", Action.HANDOVER: "pickup"}

OPEN = frozenset({Status.NEW, Status.PICKING, Status.PACKED, Status.PARTIALLY_SHIPPED,
                  Status.READY_FOR_PICKUP})


def allowed_actions(status: str, kind: str) -> list[str]:
    """The actions allowed on a ``kind`` ("ship" or "pickup") fulfillment in ``status``."""
    return [action.value for action in _TRANSITIONS[Status(status)]
            if _ONLY_FOR.get(action, kind) == kind]


def move(status: str, kind: str, action: str) -> Status:
    """The state ``action`` leads to; IllegalTransition (409) listing what is allowed if none."""
    allowed = allowed_actions(status, kind)
    if action not in allowed:
        raise IllegalTransition(
            f"A {kind} fulfillment that is {status.replace('_', ' ')} cannot {action}; "
            f"allowed: {', '.join(allowed) or 'nothing (final state)'}.",
            current_status=status, action=action, allowed=allowed)
    return _TRANSITIONS[Status(status)][Action(action)]


def order_target(current: str, fulfillments: Iterable[tuple[str, str]]) -> OrderStatus:
    """The order status its fulfillments ``(kind, status)`` call for.

    Rejected and cancelled fulfillments do not count (their units went elsewhere or were
    cancelled on the order). Nothing started yet: the order keeps ``current``.
    """
    live = [(kind, Status(status)) for kind, status in fulfillments
            if Status(status) not in (Status.REJECTED, Status.CANCELLED)]
    if not live:
        return OrderStatus(current)
    statuses = {status for _kind, status in live}
    if statuses <= {Status.HANDED_OVER}:
        return OrderStatus.COMPLETED
    if statuses <= {Status.SHIPPED, Status.HANDED_OVER}:
        return OrderStatus.SHIPPED
    if statuses & {Status.SHIPPED, Status.PARTIALLY_SHIPPED}:
        return OrderStatus.PARTIALLY_SHIPPED
    if statuses <= {Status.READY_FOR_PICKUP, Status.HANDED_OVER}:
        return OrderStatus.READY_FOR_PICKUP
    if statuses == {Status.NEW}:
        return OrderStatus(current)
    return OrderStatus.IN_FULFILLMENT


# The order actions that lead from one status to another, walking the order lifecycle.
_ORDER_PATHS: dict[tuple[OrderStatus, OrderStatus], list[OrderAction]] = {
    (OrderStatus.CONFIRMED, OrderStatus.IN_FULFILLMENT): [OrderAction.START_FULFILLMENT],
    (OrderStatus.IN_FULFILLMENT, OrderStatus.READY_FOR_PICKUP):
        [OrderAction.MARK_READY_FOR_PICKUP],
    (OrderStatus.IN_FULFILLMENT, OrderStatus.PARTIALLY_SHIPPED): [OrderAction.SHIP_PART],
    (OrderStatus.IN_FULFILLMENT, OrderStatus.SHIPPED): [OrderAction.SHIP],
    (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED): [OrderAction.SHIP],
    (OrderStatus.READY_FOR_PICKUP, OrderStatus.COMPLETED): [OrderAction.COMPLETE],
}


def order_moves(current: str, target: OrderStatus) -> list[OrderAction]:
    """The order lifecycle actions from ``current`` to ``target`` (none: it stays)."""
    here = OrderStatus(current)
    if here == target:
        return []
    if (here, target) in _ORDER_PATHS:
        return _ORDER_PATHS[(here, target)]
    if here == OrderStatus.CONFIRMED:
        return [OrderAction.START_FULFILLMENT,
                *order_moves(OrderStatus.IN_FULFILLMENT.value, target)]
    return []  # no lifecycle path (e.g. ready for pickup going back): the order stays


def tracking_url(template: str, tracking_number: str) -> str | None:
    """A parcel's public tracking page from its carrier's ``template`` (configuration), where
    ``{tracking}`` stands for the number; None when the carrier has no template."""
    template = template.strip()
    if not template:
        return None
    return template.replace("{tracking}", quote(tracking_number, safe=""))
