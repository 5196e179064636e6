"""Fulfillment's use cases in one place for the HTTP layer and the app's wiring: work per
location made from the allocations (``creation``), read (``reading``), worked through
(``work``: pick, pack, ship, pickup), rejected (``rejection``), the customer at the counter
(``arrivals``) and uncollected pickups (``sweeper``).

Every step locks the order row, then the fulfillment, changes stock through the inventory
service, lets the order's status follow its fulfillments (the order's verbs: fulfillment
never writes the order's tables) and appends one order event, in the caller's transaction.
"""

from __future__ import annotations

from comptoir.auth.schemas import SYSTEM
from comptoir.fulfillment.arrivals import counter_check_in, customer_arrived
from comptoir.fulfillment.creation import _made_id, materialise, sync_lines
from comptoir.fulfillment.reading import MAX_PAGE, get_fulfillment, list_fulfillments
from comptoir.fulfillment.rejection import reject
from comptoir.fulfillment.sweeper import (
    NOTIFICATION_HANDLERS,
    SWEEP_LOCK_KEY,
    Sweep,
    sweep_once,
    sweep_turn,
    sweep_uncollected,
)
from comptoir.fulfillment.work import carrier_for, handover, pack, pick, ready_for_pickup, ship
from comptoir.orders.handoff import HAND_OFF, hand_off

__all__ = [
    "HAND_OFF",
    "MAX_PAGE",
    "NOTIFICATION_HANDLERS",
    "SWEEP_LOCK_KEY",
    "SYSTEM",
    "Sweep",
    "_made_id",
    "carrier_for",
    "counter_check_in",
    "customer_arrived",
    "get_fulfillment",
    "hand_off",
    "handover",
    "list_fulfillments",
    "materialise",
    "pack",
    "pick",
    "ready_for_pickup",
    "reject",
    "ship",
    "sweep_once",
    "sweep_turn",
    "sweep_uncollected",
    "sync_lines",
]
