"""Why routing decided as it did, as data: a reason code and its typed parameters.

Every reason a decision or one of its candidates gives is a ``Reason``: one ``ReasonCode``
(the only place the codes are listed) and the parameters its sentence needs. People read
it in their language: the PWA renders it from its catalogues (``routing.reason.<code>``),
and ``explanation.english`` renders the English sentence the API also returns as
``reason``. Decisions stored before reasons were structured have only that sentence.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

__all__ = ["LISTED", "Reason", "ReasonCode", "ReasonLine", "listed", "loaded", "stored"]

# Items (SKUs, lines) a reason names before "and N more".
LISTED = 3


class ReasonCode(StrEnum):
    """Every reason routing gives; the parameters each one fills are said beside it."""

    # Why a decision went the way it did (``Decision.explanation``).
    NOTHING_TO_ROUTE = "nothing_to_route"
    PICKUP_CHOSEN = "pickup_chosen"  # location
    PICKUP_NOT_A_LOCATION = "pickup_not_a_location"  # location
    PICKUP_STORE_REFUSED = "pickup_store_refused"  # location, because (why it cannot)
    SINGLE_LOCATION = "single_location"  # location, because (why it won), km, place_unknown
    SPLIT = "split"  # locations, limit, place_unknown
    OUT_OF_STOCK = "out_of_stock"  # lines (quantity requested, available), more_lines
    SPLIT_NOT_ALLOWED = "split_not_allowed"  # lines, more_lines (what is short)
    TOO_MANY_SPLITS = "too_many_splits"  # limit, lines, more_lines (what is short)
    WAITING_FOR_CAPACITY = "waiting_for_capacity"  # locations (full), held_at
    # Why a location was chosen.
    ONLY_OPTION = "only_option"
    TIED = "tied"  # other (the runner-up, after it by code)
    NEAREST = "nearest"
    NEARER = "nearer"  # other
    CHEAPEST = "cheapest"  # amount (its shipping cost, minor units)
    CHEAPER = "cheaper"  # other, amount
    HIGHEST_PRIORITY = "highest_priority"  # priority
    HIGHER_PRIORITY = "higher_priority"  # other, priority
    CUSTOMERS_PICKUP_STORE = "customers_pickup_store"
    SERVES = "serves"  # lines (quantity it serves), more_lines
    HOLDS_UNTIL_CAPACITY = "holds_until_capacity"  # orders (taken today), capacity
    # Why a location lost.
    SAME_SCORE = "same_score"  # other (the winner, first by code)
    FARTHER = "farther"  # km, other_km (the winner's)
    COSTLIER = "costlier"  # amount, other_amount
    LOWER_PRIORITY = "lower_priority"  # priority, other_priority
    MISSING_ITEMS = "missing_items"  # missing, more_missing, lines (short), more_lines
    NOT_IN_SPLIT = "not_in_split"  # because (MISSING_ITEMS) or nothing
    NOT_NEEDED = "not_needed"
    # Why a location was excluded.
    INACTIVE = "inactive"
    DOES_NOT_SHIP = "does_not_ship"
    STORES_DO_NOT_SHIP = "stores_do_not_ship"
    NO_PICKUPS = "no_pickups"
    AT_CAPACITY = "at_capacity"  # orders, capacity (None: no figure)
    SAFETY_STOCK = "safety_stock"


class ReasonLine(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An order line in a reason: ``quantity`` units of ``sku``, of which ``available``."""

    sku: str
    quantity: int
    available: int | None = None


class Reason(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A reason code and its parameters (only those its code uses are set)."""

    code: ReasonCode
    location: str | None = None  # the location the reason is about
    other: str | None = None  # the location it is compared with
    km: float | None = None  # None: distance unknown
    other_km: float | None = None
    amount: int | None = None  # shipping cost, minor units
    other_amount: int | None = None
    priority: int | None = None
    other_priority: int | None = None
    orders: int | None = None  # orders taken today
    capacity: int | None = None  # orders a day
    limit: int | None = None  # the most locations an order may be split over
    locations: tuple[str, ...] = ()
    held_at: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # SKUs it has none of (the first LISTED)
    more_missing: int = 0
    lines: tuple[ReasonLine, ...] = ()  # the first LISTED
    more_lines: int = 0
    place_unknown: bool = False  # the delivery place is unknown: distance not scored
    because: Reason | None = None  # the reason inside this one


def listed(lines: list[ReasonLine]) -> tuple[tuple[ReasonLine, ...], int]:
    """The lines a reason names, and how many more it only counts."""
    return tuple(lines[:LISTED]), max(0, len(lines) - LISTED)


def stored(reason: Reason) -> dict[str, object]:
    """A reason as JSON stores it."""
    out: dict[str, object] = msgspec.to_builtins(reason)
    return out


def loaded(value: object) -> Reason | None:
    """A stored reason; None for what was stored before reasons were structured (or is not
    one), whose sentence is shown instead."""
    if not isinstance(value, dict):
        return None
    try:
        return msgspec.convert(value, Reason)
    except msgspec.ValidationError:
        return None
