"""What routing decides over and what it decides: an order's lines and delivery, the
locations and the policy, and the decision with each candidate's part and its reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from comptoir.routing.explanation import english
from comptoir.routing.reasons import Reason

__all__ = [
    "Allocation",
    "Candidate",
    "CandidateOutcome",
    "Decision",
    "Delivery",
    "Line",
    "Policy",
    "Shortage",
    "Stock",
    "awaits_capacity",
]

Stock = Mapping[str, Mapping[str, int]]  # sku -> location -> available units


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """Shipping to an address (coordinates, or a postal code and country), or a pickup."""

    method: str  # "ship" | "pickup"
    store: str | None = None  # the pickup location
    latitude: float | None = None
    longitude: float | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A location as routing sees it, with what it can still take today."""

    code: str
    kind: str  # warehouse | store | 3pl
    latitude: float | None = None
    longitude: float | None = None
    ships: bool = True
    serves_pickups: bool = False
    active: bool = True
    priority: int = 0  # higher is preferred
    shipping_cost: int = 0  # one parcel from here, minor units
    daily_capacity: int | None = None  # orders a day; None: no limit
    capacity_left: int | None = None  # orders it can still take today; None: no limit
    safety_stock: Mapping[str, int] = field(default_factory=dict)  # channel -> units kept back

    def after_orders(self, routed_today: int) -> Candidate:
        """The same location once ``routed_today`` orders have been routed to it today."""
        if self.daily_capacity is None:
            return self
        return Candidate(self.code, self.kind, self.latitude, self.longitude, self.ships,
                         self.serves_pickups, self.active, self.priority, self.shipping_cost,
                         self.daily_capacity, self.daily_capacity - routed_today,
                         self.safety_stock)

    @property
    def at_capacity(self) -> bool:
        return self.capacity_left is not None and self.capacity_left <= 0

    def without_limit(self) -> Candidate:
        """The same location as if it had no daily limit (where a waiting order is held)."""
        return replace(self, capacity_left=None) if self.capacity_left is not None else self


@dataclass(frozen=True, slots=True)
class Policy:
    distance_weight: float = 1.0  # points per km
    shipping_cost_weight: float = 0.1  # points per minor unit
    priority_weight: float = 100.0  # points per priority level below the best candidate
    split_penalty: float = 300.0  # points per location beyond the first
    max_splits: int = 2  # the most locations one order is split over (1: never split)
    stores_may_ship: bool = True
    capacity_applies_to_pickups: bool = False
    safety_stock: Mapping[str, int] = field(default_factory=dict)  # channel -> units, everywhere


@dataclass(frozen=True, slots=True)
class Allocation:
    location: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Shortage:
    sku: str
    requested: int
    available: int  # what routing could find for it under the policy


@dataclass(frozen=True, slots=True)
class CandidateOutcome:
    """One location's part in the decision: chosen, lost or excluded, and why."""

    code: str
    kind: str
    outcome: str  # "chosen" | "lost" | "excluded"
    explanation: Reason
    distance_km: float | None = None
    distance_points: float = 0.0
    shipping_cost_points: float = 0.0
    priority_points: float = 0.0
    score: float | None = None  # what it scored (or would have, when excluded)
    lines_in_full: int = 0  # order lines it could serve entirely

    @property
    def reason(self) -> str:
        """Why, in English."""
        return english(self.explanation)


@dataclass(frozen=True, slots=True)
class Decision:
    routed: bool
    allocations: tuple[Allocation, ...]
    shortages: tuple[Shortage, ...]
    explanation: Reason
    # What decided: distance | shipping_cost | priority | only_option | tie_break | split |
    # pickup | nothing_to_route; when not routed: out_of_stock | max_splits | pickup_store,
    # or capacity (the order waits for capacity: ``allocations`` hold its units meanwhile).
    deciding_factor: str
    candidates: tuple[CandidateOutcome, ...]
    without_stock: int  # locations holding none of the items (counted, not scored)
    destination: str | None  # how the delivery place was found; None when unknown
    score: float | None = None  # the chosen plan's points
    method: str = "ship"
    channel: str | None = None
    not_listed: int = 0  # candidates scored but left out of ``candidates`` (see ``listed``)

    @property
    def reason(self) -> str:
        """Why, as an English sentence."""
        return english(self.explanation)

    @property
    def locations(self) -> list[str]:
        """The chosen locations, in code order."""
        return sorted({a.location for a in self.allocations})

    @property
    def awaiting_capacity(self) -> bool:
        """Not routed only for want of capacity today: accepted, its units held."""
        return awaits_capacity(self.routed, self.deciding_factor)

    @property
    def accepted(self) -> bool:
        """Routed, or waiting for capacity: either way the order stands and holds its units."""
        return self.routed or self.awaiting_capacity


def awaits_capacity(routed: bool, deciding_factor: str) -> bool:
    """Whether a decision (stored or not) leaves its order waiting for capacity."""
    return not routed and deciding_factor == "capacity"
