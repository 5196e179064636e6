"""Routing decisions stored with their order: the row written in the order's transaction
(capture, an edit, a store's rejection, a waiting order routed) and the list the order page
shows, oldest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.db.base import new_id, utcnow
from comptoir.routing import scoring
from comptoir.routing.capacity import capacity_claims, count_orders
from comptoir.routing.explanation import english
from comptoir.routing.models import RoutingDecision
from comptoir.routing.reasons import loaded, stored
from comptoir.routing.schemas import AllocationOut, CandidateOut, ShortageOut, StoredDecisionOut

__all__ = ["MAX_STORED_CANDIDATES", "decision_rows", "decisions_for_order", "record_decision"]

# A decision stored for an order keeps the candidates it lists: enough to explain it without
# hundreds of rows of JSON per order.
MAX_STORED_CANDIDATES = scoring.LISTED_CANDIDATES
_DECISIONS: Table = RoutingDecision.__table__  # type: ignore[assignment]


def decision_rows(
    decision: scoring.Decision, *, order_number: str = "", now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The row that stores a decision. ``order_number`` may be left for the caller's SQL to
    fill in. A candidate is stored with its reason as data (``explanation``); its English
    sentence is said when read (``decisions_for_order``), not written with every order."""
    now = now or utcnow()
    listed = [
        {"code": c.code, "kind": c.kind, "outcome": c.outcome,
         "distance_km": c.distance_km, "distance_points": c.distance_points,
         "shipping_cost_points": c.shipping_cost_points, "priority_points": c.priority_points,
         "score": c.score, "lines_in_full": c.lines_in_full,
         "explanation": stored(c.explanation)}
        for c in decision.candidates[:MAX_STORED_CANDIDATES]
    ]
    return dict(
        id=new_id(), order_number=order_number, created_at=now, method=decision.method,
        channel=decision.channel, routed=decision.routed,
        deciding_factor=decision.deciding_factor, reason=decision.reason,
        explanation=stored(decision.explanation),
        destination=decision.destination, score=decision.score,
        allocations=[{"location": a.location, "sku": a.sku, "quantity": a.quantity}
                     for a in decision.allocations],
        shortages=[{"sku": s.sku, "requested": s.requested, "available": s.available}
                   for s in decision.shortages],
        candidates=listed,
        candidates_left_out=decision.not_listed + len(decision.candidates) - len(listed),
        without_stock=decision.without_stock,
    )


async def record_decision(
    session: AsyncSession, order_number: str, decision: scoring.Decision, *,
    now: dt.datetime | None = None, counted: bool = False,
) -> list[str]:
    """Take the decision's share of daily capacity (``count_orders``) and store it, in the
    caller's transaction; the locations found full (then nothing is stored and the caller
    routes again). ``counted``: the caller counted it already."""
    if not counted:
        full = await count_orders(session, await capacity_claims(decision, now=now))
        if full:
            return full
    await session.execute(_DECISIONS.insert().values(
        **decision_rows(decision, order_number=order_number, now=now)))
    return []


def _candidate_out(stored_candidate: dict[str, Any]) -> CandidateOut:
    """A stored candidate as the API shows it, its reason said in English (decisions stored
    before reasons had codes carry only that sentence)."""
    if "reason" in stored_candidate:
        return msgspec.convert(stored_candidate, CandidateOut)
    explanation = loaded(stored_candidate.get("explanation"))
    reason = english(explanation) if explanation is not None else ""
    return msgspec.convert({**stored_candidate, "reason": reason}, CandidateOut)


async def decisions_for_order(session: AsyncSession, order_number: str) -> list[StoredDecisionOut]:
    """An order's routing decisions, oldest first (a re-routed order has several)."""
    rows = await session.scalars(
        select(RoutingDecision).where(RoutingDecision.order_number == order_number)
        .order_by(RoutingDecision.created_at, RoutingDecision.id)
    )
    out = []
    for row in rows:
        allocations = msgspec.convert(row.allocations, list[AllocationOut])
        out.append(StoredDecisionOut(
            order_number=row.order_number, created_at=row.created_at, routed=row.routed,
            awaiting_capacity=scoring.awaits_capacity(row.routed, row.deciding_factor),
            reason=row.reason, deciding_factor=row.deciding_factor, method=row.method,
            channel=row.channel,
            locations=sorted({a.location for a in allocations}),
            allocations=allocations,
            shortages=msgspec.convert(row.shortages, list[ShortageOut]),
            candidates=[_candidate_out(c) for c in row.candidates],
            without_stock=row.without_stock, not_listed=row.candidates_left_out,
            destination=row.destination, score=row.score, explanation=loaded(row.explanation),
        ))
    return out
