"""Which live topics an event belongs to, and who may subscribe to which topic (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

__all__ = [
    "MAX_TOPIC_LENGTH",
    "STOCK_KEYS",
    "Access",
    "Topic",
    "access",
    "event_topics",
    "order_locations",
    "order_stock",
    "parse_topic",
    "presenter_for",
    "stock_view",
]

MAX_TOPIC_LENGTH = 200

TopicKind = Literal["orders", "order", "location", "inventory", "track", "log"]

# "orders" and the names of other event logs ("catalog"…) stand alone; the rest name a key.
_KEYED = {"order", "location", "inventory", "track"}
_PLAIN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Keys are SKUs, order numbers, location codes, tracking tokens: what a SKU may contain.
_KEY = re.compile(r"^[^\s/?#%\\]{1,150}$")


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic a client may ask for: ``kind`` and, for keyed kinds, the ``key``."""

    kind: TopicKind
    key: str = ""

    @property
    def name(self) -> str:
        if self.kind == "orders" or (self.kind == "inventory" and not self.key):
            return self.kind
        return self.key if self.kind == "log" else f"{self.kind}:{self.key}"


def parse_topic(name: str) -> Topic | None:
    """The topic named ``name``, or None when it is no topic Comptoir knows how to serve."""
    if not name or len(name) > MAX_TOPIC_LENGTH:
        return None
    kind, colon, key = name.partition(":")
    if not colon:
        if name == "orders":
            return Topic("orders")
        if name == "inventory":
            return Topic("inventory")  # every stock level (a manager's stock-outs)
        if name in _KEYED or not _PLAIN.match(name):
            return None
        return Topic("log", name)  # another domain's event log, e.g. "catalog"
    if kind not in _KEYED or not _KEY.match(key):
        return None
    return Topic(kind, key)  # type: ignore[arg-type]


class Access(Enum):
    """What it takes for a caller to receive a topic."""

    GRANTED = "granted"
    REFUSED = "refused"
    IF_ORDER_VISIBLE = "if_order_visible"  # the order must be one the caller may read
    BY_TRACKING_TOKEN = "by_tracking_token"  # the token must name an order


# Event logs any staff member may follow (associates read the catalog, not the rest).
_STAFF_LOGS = frozenset({"catalog"})


def access(role: str | None, location: str | None, topic: Topic) -> Access:
    """Who may follow what. ``role`` None is an anonymous visitor (a customer, at best).

    Admins and managers follow everything. An associate follows their own location, the
    orders it works on, stock (which associates may read) and the catalog. A channel's key
    follows its own orders only. Anyone holding a tracking token follows that one order.
    """
    if topic.kind == "track":
        return Access.BY_TRACKING_TOKEN
    if role in ("admin", "manager"):
        return Access.GRANTED
    if role == "associate":
        if topic.kind == "location":
            return Access.GRANTED if location is not None and topic.key == location else (
                Access.REFUSED)
        if topic.kind == "inventory":
            return Access.GRANTED
        if topic.kind == "order":
            return Access.IF_ORDER_VISIBLE
        if topic.kind == "log" and topic.key in _STAFF_LOGS:
            return Access.GRANTED
        return Access.REFUSED
    if role == "channel" and topic.kind == "order":
        return Access.IF_ORDER_VISIBLE
    return Access.REFUSED


def order_locations(data: Mapping[str, Any]) -> list[str]:
    """The locations an order event concerns: where it is allocated and where it is picked up.

    The orders domain lists them in ``data["locations"]``; events written before it did are
    read from their allocations and pickup store instead.
    """
    listed = data.get("locations")
    if isinstance(listed, list):
        return sorted({code for code in listed if isinstance(code, str) and code})
    found: set[str] = set()
    pickup = data.get("pickup_location")
    if isinstance(pickup, str) and pickup:
        found.add(pickup)
    for key in ("allocations", "reserved", "released"):
        rows = data.get(key)
        if isinstance(rows, list):
            found.update(row["location"] for row in rows
                         if isinstance(row, Mapping) and isinstance(row.get("location"), str))
    return sorted(found)


# What an order event lists of the stock it reserved or gave back, each a list of
# ``{"sku", "location", "quantity"}``: capture (allocations), edits and cancellations
# (reserved, released), a store's rejection re-routed elsewhere (rerouted).
STOCK_KEYS = ("allocations", "reserved", "released", "rerouted")


def order_stock(data: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The reservations an order event changed, by kind, as ``{sku, location, quantity}``
    rows and nothing else of the order (no customer, address, price or note)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for key in STOCK_KEYS:
        rows = data.get(key)
        if not isinstance(rows, list):
            continue
        kept = [{"sku": row["sku"], "location": row.get("location"),
                 "quantity": row.get("quantity")}
                for row in rows if isinstance(row, Mapping) and isinstance(row.get("sku"), str)]
        if kept:
            found[key] = kept
    return found


def stock_view(type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """What a follower of a stock topic gets of an event: a stock event whole; of an order
    event, only the reservations it changed. Stock topics are open to every associate, the
    orders they carry are not: the order's own topics give the rest to those who may read it.
    """
    if type.startswith("inventory."):
        return data
    return order_stock(data)


def presenter_for(topic: Topic) -> Callable[[str, dict[str, Any]], dict[str, Any] | None] | None:
    """How staff and systems receive ``topic``: None for the event's data as recorded."""
    return stock_view if topic.kind == "inventory" else None


def event_topics(topic: str, subject: str, data: Mapping[str, Any]) -> tuple[str, ...]:
    """The live topics an event is published on, the most specific first.

    An order event goes to ``order:<number>``, to ``location:<code>`` of every location it
    concerns, and to ``orders``; when it reserved or gave back stock, also to
    ``inventory:<sku>`` of each SKU and to ``inventory`` (a capture elsewhere changes what
    the stock screens show as available). A stock event (subject ``SKU@LOCATION``) goes to
    ``inventory:<sku>``, ``location:<code>`` and ``inventory`` (all stock); any other event
    to its log's name.
    """
    if topic == "order":
        skus = sorted({row["sku"] for rows in order_stock(data).values() for row in rows})
        stock = (*(f"inventory:{sku}" for sku in skus), "inventory") if skus else ()
        return (f"order:{subject}",
                *(f"location:{code}" for code in order_locations(data)), "orders", *stock)
    if topic == "inventory":
        sku, at, location = subject.rpartition("@")
        sku = str(data.get("sku") or (sku if at else subject))
        location = str(data.get("location") or (location if at else ""))
        return (f"inventory:{sku}", f"location:{location}", "inventory") if location else (
            f"inventory:{sku}", "inventory")
    return (topic,)
