"""Configuration as the API shows it (read-only)."""

from __future__ import annotations

import msgspec

__all__ = [
    "AccountingAccountOut",
    "CarrierOut",
    "ChannelOut",
    "ChannelSafetyStockOut",
    "CompanyOut",
    "FraudRuleOut",
    "LocationOut",
    "RoutingPolicyOut",
    "ShippingRateOut",
]


class LocationOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    country: str
    latitude: float | None
    longitude: float | None
    timezone: str
    ships: bool
    serves_pickups: bool
    daily_order_capacity: int | None
    pickup_hold_days: int
    opening_hours: str
    active: bool
    routing_priority: int = 0  # higher is preferred by routing
    shipping_cost: int = 0  # one parcel from here, minor units


class CarrierOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    tracking_url_template: str  # ``{tracking}`` stands for the parcel's number
    active: bool


class ShippingRateOut(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    fee: int
    free_from: int | None


class ChannelOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: str
    currency: str
    prices_include_tax: bool
    active: bool
    shipping_rates: list[ShippingRateOut] = []
    # Pickups of orders above this total (minor units of ``currency``) need an ID check at
    # the counter; None: never.
    id_check_above: int | None = None
    payment_provider: str = "sandbox"  # sandbox | stripe | external | none
    capture_policy: str = "on_shipment"  # or at_capture
    # Orders scoring more fraud points than this are held for review; None: no screening.
    fraud_threshold: int | None = None


class CompanyOut(msgspec.Struct, frozen=True, kw_only=True):
    legal_name: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    country: str
    vat_number: str
    email: str
    phone: str
    legal_form: str = ""
    share_capital: str = ""
    siren: str = ""
    siret: str = ""
    rcs: str = ""
    website: str = ""
    logo_path: str = ""
    invoice_prefix: str = "FA"
    credit_note_prefix: str = "AV"
    invoicing_policy: str = "per_shipment"  # or "per_order"
    payment_terms_days: int = 30
    late_penalty_rate: str = "trois fois le taux d\u2019intérêt légal"
    customers_account: str = "411000"


class AccountingAccountOut(msgspec.Struct, frozen=True, kw_only=True):
    """Where the accounting export books the sales and the VAT of one rate."""

    vat_rate_bp: int
    sales_account: str
    vat_account: str


class RoutingPolicyOut(msgspec.Struct, frozen=True, kw_only=True):
    """How orders are routed (see ``config.models.RoutingPolicy``); defaults when unset."""

    distance_weight: float = 1.0
    shipping_cost_weight: float = 0.1
    priority_weight: float = 100.0
    split_penalty: float = 300.0
    max_splits: int = 2
    stores_may_ship: bool = True
    default_store_capacity: int | None = None
    capacity_applies_to_pickups: bool = False


class ChannelSafetyStockOut(msgspec.Struct, frozen=True, kw_only=True):
    """Units of every SKU kept back from ``channel``'s orders: at ``location``, or everywhere."""

    channel: str
    location: str | None
    units: int


class FraudRuleOut(msgspec.Struct, frozen=True, kw_only=True):
    """A fraud rule as configured (``config.models.FraudRule``); ``channel`` None: every
    channel's. ``values``: the watch list, split on commas."""

    channel: str | None
    kind: str
    points: int
    amount: int | None = None
    minutes: int | None = None
    at_least: int | None = None
    values: tuple[str, ...] = ()
