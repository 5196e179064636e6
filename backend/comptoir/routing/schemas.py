"""Routing on the wire: a hypothetical order to simulate, and decisions with their reasons."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from comptoir.config.schemas import ChannelSafetyStockOut
from comptoir.routing import scoring
from comptoir.routing.reasons import Reason

__all__ = [
    "AllocationOut",
    "CandidateOut",
    "DecisionOut",
    "LocationRoutingOut",
    "PolicyOut",
    "ShortageOut",
    "SimulateAddressIn",
    "SimulateDeliveryIn",
    "SimulateIn",
    "SimulateLineIn",
    "StoredDecisionOut",
    "candidate_out",
    "decision_out",
]

Code = Annotated[str, msgspec.Meta(max_length=64)]


class SimulateLineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Code
    quantity: int


class SimulateAddressIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A delivery address: coordinates, or a postal code and country (other fields ignored)."""

    postal_code: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    country: Annotated[str, msgspec.Meta(max_length=2)] = "FR"
    latitude: float | None = None
    longitude: float | None = None
    city: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class SimulateDeliveryIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``{"method": "ship", "address": {...}}`` or ``{"method": "pickup", "location": "ST-1"}``."""

    method: Code
    address: SimulateAddressIn | None = None
    location: Code | None = None


class SimulateIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A hypothetical order: routed against current stock, nothing reserved."""

    lines: list[SimulateLineIn]
    delivery: SimulateDeliveryIn
    channel: Code | None = None


class AllocationOut(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    sku: str
    quantity: int


class ShortageOut(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    requested: int
    available: int


class CandidateOut(msgspec.Struct, frozen=True, kw_only=True):
    """A location's part in a decision: ``chosen``, ``lost`` or ``excluded``, and why."""

    code: str
    kind: str
    outcome: str
    reason: str  # in English; ``explanation`` says it in any language
    distance_km: float | None
    distance_points: float
    shipping_cost_points: float
    priority_points: float
    score: float | None  # what it scored, or would have scored when excluded
    lines_in_full: int
    # The reason as a code and its parameters; None in decisions stored before reasons had
    # codes (``reason`` alone then).
    explanation: Reason | None = None


class DecisionOut(msgspec.Struct, frozen=True, kw_only=True):
    """Where an order goes and why; ``routed`` false says what is short instead, or, with
    ``awaiting_capacity``, that the order waits for capacity with its units held at
    ``locations``."""

    routed: bool
    awaiting_capacity: bool
    reason: str  # in English; ``explanation`` says it in any language
    deciding_factor: str
    method: str
    channel: str | None
    locations: list[str]
    allocations: list[AllocationOut]
    shortages: list[ShortageOut]
    candidates: list[CandidateOut]
    without_stock: int  # locations holding none of the items, not listed
    not_listed: int  # locations scored but left out of ``candidates`` (the lowest-ranked)
    destination: str | None  # how the delivery place was found; None: unknown
    score: float | None
    # The reason as a code and its parameters; None in decisions stored before reasons had
    # codes (``reason`` alone then).
    explanation: Reason | None = None


class StoredDecisionOut(DecisionOut, frozen=True, kw_only=True):
    """A decision as stored for an order (its best-ranked candidates; ``not_listed`` more)."""

    order_number: str
    created_at: dt.datetime


class LocationRoutingOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    kind: str
    active: bool
    ships: bool
    serves_pickups: bool
    priority: int
    shipping_cost: int
    daily_capacity: int | None  # None: no limit
    routed_today: int
    capacity_left: int | None


class PolicyOut(msgspec.Struct, frozen=True, kw_only=True):
    """The routing policy in force, and what it means for each location today."""

    distance_weight: float
    shipping_cost_weight: float
    priority_weight: float
    split_penalty: float
    max_splits: int
    stores_may_ship: bool
    default_store_capacity: int | None
    capacity_applies_to_pickups: bool
    channel_safety_stock: list[ChannelSafetyStockOut]
    locations: list[LocationRoutingOut]


def decision_out(decision: scoring.Decision) -> DecisionOut:
    return DecisionOut(
        routed=decision.routed,
        awaiting_capacity=decision.awaiting_capacity,
        reason=decision.reason,
        deciding_factor=decision.deciding_factor,
        method=decision.method,
        channel=decision.channel,
        locations=decision.locations,
        allocations=[AllocationOut(location=a.location, sku=a.sku, quantity=a.quantity)
                     for a in decision.allocations],
        shortages=[ShortageOut(sku=s.sku, requested=s.requested, available=s.available)
                   for s in decision.shortages],
        candidates=[candidate_out(c) for c in decision.candidates],
        without_stock=decision.without_stock,
        not_listed=decision.not_listed,
        destination=decision.destination,
        score=decision.score,
        explanation=decision.explanation,
    )


def candidate_out(c: scoring.CandidateOutcome) -> CandidateOut:
    return CandidateOut(
        code=c.code, kind=c.kind, outcome=c.outcome, reason=c.reason, distance_km=c.distance_km,
        distance_points=c.distance_points, shipping_cost_points=c.shipping_cost_points,
        priority_points=c.priority_points, score=c.score, lines_in_full=c.lines_in_full,
        explanation=c.explanation,
    )
