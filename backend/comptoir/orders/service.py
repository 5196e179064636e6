"""The orders domain's verbs, gathered where other modules have always found them.

Each lives in a module of its own, by what it does: ``capture`` (the use case: load,
decide, write, announce), ``draft`` (the order decided in pure code), ``writing`` with
``write_sql`` and ``capture_pg`` (the one writer interface and its two writers),
``checks`` (what a caller sends, checked), ``pricing``, ``refusals``, ``reservations``,
``reading`` and ``search`` (the list). Changes to an existing order are in ``actions.py``.
"""

from __future__ import annotations

from comptoir.orders.capture import (
    AlreadyCaptured,
    Captured,
    answer_for_retry,
    capture,
    stored_answer,
)
from comptoir.orders.checks import (
    MAX_LINES,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    Delivery,
    channel_for,
    check_delivery,
    check_quantity,
    check_unit_price,
    check_variants,
    request_hash,
    routing_delivery,
    unit_price_for,
)
from comptoir.orders.draft import new_pickup_code
from comptoir.orders.pricing import goods_amount, price_lines
from comptoir.orders.reading import (
    customer_orders,
    customer_spending,
    find_by_external_ref,
    find_order,
    lines_and_allocations,
    order_detail,
    order_events,
    order_out,
    render,
    visible_to,
)
from comptoir.orders.refusals import OutOfStock, not_routed, out_of_stock
from comptoir.orders.reservations import change_reservations
from comptoir.orders.search import MAX_PAGE, list_orders

__all__ = [
    "MAX_LINES",
    "MAX_PAGE",
    "MAX_QUANTITY",
    "MAX_UNIT_PRICE",
    "AlreadyCaptured",
    "Captured",
    "Delivery",
    "OutOfStock",
    "answer_for_retry",
    "capture",
    "change_reservations",
    "channel_for",
    "check_delivery",
    "check_quantity",
    "check_unit_price",
    "check_variants",
    "customer_orders",
    "customer_spending",
    "find_by_external_ref",
    "find_order",
    "goods_amount",
    "lines_and_allocations",
    "list_orders",
    "new_pickup_code",
    "not_routed",
    "order_detail",
    "order_events",
    "order_out",
    "out_of_stock",
    "price_lines",
    "render",
    "request_hash",
    "routing_delivery",
    "stored_answer",
    "unit_price_for",
    "visible_to",
]
