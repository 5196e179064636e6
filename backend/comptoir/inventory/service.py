"""Inventory's verbs, as other domains call them (``from comptoir.inventory import service``).

Stock rules: movements keep on_hand equal to the ledger; reservations never oversell. Every
change is one conditional UPDATE checked by its row count, so two requests racing for the
last unit cannot both win, on SQLite and PostgreSQL alike. Where each verb lives:

- ``ledger``: receipts, adjustments, counts, safety stock, sales (changes of on_hand);
- ``reservations``: units set aside for orders, one level or many in one statement;
- ``reading``: what can be promised, levels, movements, stock-outs;
- ``recent_reads``: what capture read a moment ago, and reads shared by captures.
"""

from __future__ import annotations

from comptoir.inventory.ledger import (
    MAX_ON_HAND,
    MAX_QUANTITY,
    adjust,
    consume_reservation,
    count,
    ensure_level,
    get_level,
    receive_stock,
    set_safety_stock,
)
from comptoir.inventory.reading import (
    SellableVariant,
    VariantsAndStock,
    availability,
    list_levels,
    list_movements,
    list_stock_outs,
    variants_with_availability,
)
from comptoir.inventory.recent_reads import (
    RECENT_READ_SECONDS,
    RecentReads,
    forget_recent_reads,
    recent_reads,
    variants_with_availability_together,
)
from comptoir.inventory.reservations import (
    release,
    reserve,
    reserve_all,
    reserve_all_params,
    reserve_ctes,
)

__all__ = [
    "MAX_ON_HAND",
    "MAX_QUANTITY",
    "RECENT_READ_SECONDS",
    "RecentReads",
    "SellableVariant",
    "VariantsAndStock",
    "adjust",
    "availability",
    "consume_reservation",
    "count",
    "ensure_level",
    "forget_recent_reads",
    "get_level",
    "list_levels",
    "list_movements",
    "list_stock_outs",
    "receive_stock",
    "recent_reads",
    "release",
    "reserve",
    "reserve_all",
    "reserve_all_params",
    "reserve_ctes",
    "set_safety_stock",
    "variants_with_availability",
    "variants_with_availability_together",
]
