"""Routing's reasons as English sentences: the ``reason`` the API returns beside the codes.

The one English renderer on the server; the PWA renders the same reasons from its own
catalogues (``pwa/src/i18n/routing.*.ts``), in English word for word as here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from comptoir.routing.reasons import LISTED, Reason, ReasonCode, ReasonLine

__all__ = ["english"]

C = ReasonCode


def english(reason: Reason) -> str:
    """The sentence (a decision's) or phrase (a candidate's) that says ``reason``."""
    return _SENTENCES[reason.code](reason)


def _names(items: Sequence[str], more: int = 0) -> str:
    """"A, B, C and 2 more": at most LISTED names, then how many are left."""
    if len(items) > LISTED:
        items, more = items[:LISTED], more + len(items) - LISTED
    return ", ".join(items) + (f" and {more} more" if more else "")


def _pair(codes: Sequence[str]) -> str:
    """"A and B" for two locations, else as ``_names``."""
    return " and ".join(codes) if len(codes) <= 2 else _names(codes)


def _km(value: float | None) -> str:
    if value is None:
        return "distance unknown"
    return f"{value:.0f} km" if value >= 10 else f"{value:.1f} km"


def _money(minor: int | None) -> str:
    return f"{(minor or 0) / 100:.2f}"


def _short(lines: Sequence[ReasonLine], more: int) -> str:
    """"TEE (1 of 2)": what is on hand of what was asked."""
    return _names([f"{line.sku} ({line.available or 0} of {line.quantity})" for line in lines],
                  more)


def _at_capacity(r: Reason) -> str:
    if r.capacity is not None:
        return f"at capacity ({r.orders or 0} of {r.capacity} orders today)"
    return "at capacity for today"


def _missing(r: Reason) -> str:
    parts = []
    if r.missing:
        parts.append("missing " + _names(r.missing, r.more_missing))
    if r.lines:
        parts.append("short of " + _short(r.lines, r.more_lines))
    return "; ".join(parts)


def _inner(r: Reason) -> str:
    return english(r.because) if r.because is not None else ""


def _pickup_refused(r: Reason) -> str:
    because = r.because
    verb = "" if because is None or because.code == C.NO_PICKUPS else "is "
    return f"Cannot route: the pickup store {r.location} {verb}{_inner(r)}."


def _single(r: Reason) -> str:
    tied = r.because is not None and r.because.code == C.TIED
    where = _km(r.km) if r.km is not None or not r.place_unknown else ""
    return (f"{r.location}: {_inner(r)}{', ' if tied else ' '}with all items"
            + (f", {where}" if where else "") + _unknown_place(r) + ".")


def _unknown_place(r: Reason) -> str:
    return "; delivery place unknown, distance not scored" if r.place_unknown else ""


def _waiting(r: Reason) -> str:
    verb = "is" if len(r.locations) == 1 else "are"
    return (f"Waiting for capacity: {_pair(r.locations)} {verb} at capacity today and no "
            f"location with capacity left can serve the order; its units are held at "
            f"{_pair(r.held_at)} until then.")


def _not_in_split(r: Reason) -> str:
    return f"{_inner(r)}; not in the best split" if r.because else "not in the best split"


_SENTENCES: dict[ReasonCode, Callable[[Reason], str]] = {
    C.NOTHING_TO_ROUTE: lambda r: "Nothing to route: the order has no units.",
    C.PICKUP_CHOSEN: lambda r: f"{r.location}: the pickup store the customer chose, with all "
                               "items.",
    C.PICKUP_NOT_A_LOCATION: lambda r: f"Cannot route: '{r.location}' is not a location.",
    C.PICKUP_STORE_REFUSED: _pickup_refused,
    C.SINGLE_LOCATION: _single,
    C.SPLIT: lambda r: (f"Split over {_pair(r.locations)}: no single location has every item; "
                        f"the lowest combined score within {r.limit} locations"
                        f"{_unknown_place(r)}."),
    C.OUT_OF_STOCK: lambda r: ("Cannot route: not enough stock where orders may ship from: "
                               f"{_short(r.lines, r.more_lines)}."),
    C.SPLIT_NOT_ALLOWED: lambda r: ("Cannot route: no single location has every item and the "
                                    "routing policy does not split; short: "
                                    f"{_short(r.lines, r.more_lines)}."),
    C.TOO_MANY_SPLITS: lambda r: (f"Cannot route: no {r.limit} locations together have every "
                                  f"item; short: {_short(r.lines, r.more_lines)}."),
    C.WAITING_FOR_CAPACITY: _waiting,
    C.ONLY_OPTION: lambda r: "the only location",
    C.TIED: lambda r: f"tied on score with {r.other}, first by code",
    C.NEAREST: lambda r: "nearest",
    C.NEARER: lambda r: f"nearer than {r.other}",
    C.CHEAPEST: lambda r: f"cheapest to ship ({_money(r.amount)})",
    C.CHEAPER: lambda r: f"cheaper to ship than {r.other} ({_money(r.amount)})",
    C.HIGHEST_PRIORITY: lambda r: f"highest priority ({r.priority})",
    C.HIGHER_PRIORITY: lambda r: f"higher priority than {r.other} ({r.priority})",
    C.CUSTOMERS_PICKUP_STORE: lambda r: "the customer's pickup store",
    C.SERVES: lambda r: "serves " + _names([f"{line.quantity} x {line.sku}" for line in r.lines],
                                           r.more_lines),
    C.HOLDS_UNTIL_CAPACITY: lambda r: "holds the units until it has capacity; "
                                      + _at_capacity(r),
    C.SAME_SCORE: lambda r: f"same score as {r.other}, which comes first by code",
    C.FARTHER: lambda r: f"farther: {_km(r.km)} vs {_km(r.other_km)}",
    C.COSTLIER: lambda r: (f"costlier to ship: {_money(r.amount)} vs "
                           f"{_money(r.other_amount)}"),
    C.LOWER_PRIORITY: lambda r: f"lower priority: {r.priority} vs {r.other_priority}",
    C.MISSING_ITEMS: _missing,
    C.NOT_IN_SPLIT: _not_in_split,
    C.NOT_NEEDED: lambda r: "not needed",
    C.INACTIVE: lambda r: "inactive",
    C.DOES_NOT_SHIP: lambda r: "does not ship",
    C.STORES_DO_NOT_SHIP: lambda r: "stores do not ship under the routing policy",
    C.NO_PICKUPS: lambda r: "does not serve pickups",
    C.AT_CAPACITY: _at_capacity,
    C.SAFETY_STOCK: lambda r: "none of the items beyond the channel's safety stock",
}
