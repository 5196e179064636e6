"""The locations routing looks at: what each can give of an order, what it scores, why it
may not serve it, and how a decision lists them (see ``scoring`` for the rules)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from comptoir.routing.decision import Candidate, CandidateOutcome, Line, Policy, Stock
from comptoir.routing.reasons import LISTED, Reason, ReasonCode, ReasonLine

__all__ = [
    "Context",
    "Demand",
    "Scored",
    "at_capacity",
    "demand_of",
    "exclusion",
    "gives",
    "held_back",
    "listing",
    "missing",
    "rank",
]

Demand = list[tuple[str, int]]  # (sku, quantity), each SKU once


@dataclass(slots=True, eq=False)
class Scored:
    """A location holding some of the items, with what it gives and scores."""

    candidate: Candidate
    gives: tuple[int, ...]
    km: float | None
    distance: float
    cost: float
    excluded: Reason | None = None  # why it may not serve this order
    priority: float = 0.0
    score: float = 0.0  # what it scores, or would score when excluded
    full: int = 0  # lines served entirely
    fraction: float = 0.0  # share of the order it can serve (sum over lines of gives/quantity)


@dataclass(frozen=True, slots=True)
class Context:
    demand: Demand
    entries: list[Scored]  # every location holding some of the items, best score first
    listed: int | None  # how many candidates the decision lists (None: all)
    without_stock: int
    destination: str | None
    place_unknown: bool  # the delivery place is unknown: distance not scored


def demand_of(lines: Iterable[Line | tuple[str, int]]) -> Demand:
    """(sku, quantity) in line order, each SKU once, positive quantities only."""
    merged: dict[str, int] = {}
    for line in lines:
        sku, quantity = (line.sku, line.quantity) if isinstance(line, Line) else line
        if quantity > 0:
            merged[sku] = merged.get(sku, 0) + quantity
    return list(merged.items())


def held_back(candidate: Candidate, policy: Policy, channel: str | None) -> int:
    """Units of each item the location keeps back from the channel (safety stock)."""
    if channel is None:
        return 0
    if channel in candidate.safety_stock:
        return candidate.safety_stock[channel]
    return policy.safety_stock.get(channel, 0)


def gives(demand: Sequence[tuple[str, int]], candidate: Candidate, stock: Stock,
          held: int) -> tuple[int, ...]:
    """Units of each line the candidate can serve (at most the line's quantity)."""
    code = candidate.code
    out = []
    for sku, quantity in demand:
        available = stock.get(sku, {}).get(code, 0) - held
        out.append(quantity if available >= quantity else max(0, available))
    return tuple(out)


def missing(demand: Sequence[tuple[str, int]], served: Sequence[int]) -> Reason | None:
    """What a candidate lacks ("missing A, short of B (1 of 2)"); None when nothing."""
    absent: list[str] = []
    short: list[tuple[str, int, int]] = []
    for (sku, quantity), g in zip(demand, served, strict=True):
        if g == 0:
            absent.append(sku)
        elif g < quantity:
            short.append((sku, quantity, g))
    if not absent and not short:
        return None
    return Reason(code=ReasonCode.MISSING_ITEMS, missing=tuple(absent[:LISTED]),
                  more_missing=max(0, len(absent) - LISTED),
                  lines=tuple(ReasonLine(sku=sku, quantity=q, available=g)
                              for sku, q, g in short[:LISTED]),
                  more_lines=max(0, len(short) - LISTED))


def at_capacity(candidate: Candidate) -> Reason:
    daily, left = candidate.daily_capacity, candidate.capacity_left or 0
    return Reason(code=ReasonCode.AT_CAPACITY, capacity=daily,
                  orders=None if daily is None else daily - left)


_INACTIVE = Reason(code=ReasonCode.INACTIVE)
_DOES_NOT_SHIP = Reason(code=ReasonCode.DOES_NOT_SHIP)
_STORES_DO_NOT_SHIP = Reason(code=ReasonCode.STORES_DO_NOT_SHIP)


def exclusion(candidate: Candidate, policy: Policy) -> Reason | None:
    """Why a location may not ship this order, if it may not."""
    if not candidate.active:
        return _INACTIVE
    if not candidate.ships:
        return _DOES_NOT_SHIP
    if candidate.kind == "store" and not policy.stores_may_ship:
        return _STORES_DO_NOT_SHIP
    if candidate.at_capacity:
        return at_capacity(candidate)
    return None


def rank(s: Scored) -> tuple[float, str]:
    return (s.score, s.candidate.code)


def _outcome(s: Scored, outcome: str, reason: Reason) -> CandidateOutcome:
    return CandidateOutcome(
        s.candidate.code, s.candidate.kind, outcome, reason,
        None if s.km is None else round(s.km, 1), round(s.distance, 3), round(s.cost, 3),
        round(s.priority, 3), s.score, s.full,
    )


def listing(
    context: Context, chosen: Sequence[tuple[Scored, Reason]],
    why_lost: Callable[[Scored], Reason],
) -> tuple[tuple[CandidateOutcome, ...], int]:
    """The chosen locations, then the others by score; and how many were left out.

    Only the listed ones get a reason: with hundreds of candidates, that is most of the work.
    """
    out = [_outcome(s, "chosen", why) for s, why in chosen]
    codes = {s.candidate.code for s, _why in chosen}
    others = [e for e in context.entries if e.candidate.code not in codes]
    shown = others if context.listed is None else others[:max(0, context.listed - len(out))]
    for e in shown:
        out.append(_outcome(e, "excluded", e.excluded) if e.excluded is not None
                   else _outcome(e, "lost", why_lost(e)))
    return tuple(out), len(others) - len(shown)
