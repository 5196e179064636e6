"""The demo retailer's data file (``data/demo_retailer.json``), read into typed Structs."""

from __future__ import annotations

from pathlib import Path

import msgspec

__all__ = [
    "DATA_FILE",
    "ChannelSpec",
    "CompanySpec",
    "DemoRetailer",
    "FamilySpec",
    "LocationSpec",
    "RoutingPolicySpec",
    "SafetyStockSpec",
    "ShippingRateSpec",
    "StaffSpec",
    "TaxRateSpec",
    "load_demo",
]

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "demo_retailer.json"


class CompanySpec(msgspec.Struct, frozen=True, kw_only=True):
    """The seller on the demo's invoices: the French legal mentions (legal form, share
    capital, SIREN and the head office's SIRET, RCS registry, VAT number, address). The
    registry is the head office's town (Lyon): an RCS is kept by the commercial court there."""

    legal_name: str
    legal_form: str = ""
    share_capital: str = ""
    # SIRET = the SIREN and the establishment's 5-digit NIC.
    siren: str = ""
    siret: str = ""
    rcs: str = ""
    website: str = ""
    address_line1: str
    address_line2: str = ""
    postal_code: str
    city: str
    country: str = "FR"
    # A SIREN that fails INSEE's Luhn check (so no real company has it) with the correct
    # French VAT key in front: the format of a real number, the certainty of a fictitious one.
    vat_number: str
    email: str
    phone: str


class TaxRateSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A country's VAT rate for one tax class (France: standard 2000, reduced 1000,
    super_reduced 550 for books and food, zero 0)."""

    country: str
    rate_bp: int
    name: str
    tax_class: str = "standard"


class LocationSpec(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: str
    address_line1: str
    address_line2: str = ""
    postal_code: str
    city: str
    country: str = "FR"
    latitude: float
    longitude: float
    timezone: str = "Europe/Paris"
    ships: bool
    serves_pickups: bool
    daily_order_capacity: int | None = None
    pickup_hold_days: int = 7
    opening_hours: str = ""
    routing_priority: int = 0
    shipping_cost: int = 0  # one parcel sent from here, in cents


class ShippingRateSpec(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    fee: int
    free_from: int | None = None


class ChannelSpec(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: str
    currency: str = "EUR"
    prices_include_tax: bool = True
    shipping_rates: list[ShippingRateSpec] = []


class StaffSpec(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    password: str
    role: str
    location: str | None = None
    email: str = ""


class RoutingPolicySpec(msgspec.Struct, frozen=True, kw_only=True):
    """The demo's routing policy, a row of ``config_routing_policy`` the admin edits."""

    distance_weight: float
    shipping_cost_weight: float
    priority_weight: float
    split_penalty: float
    max_splits: int
    stores_may_ship: bool
    default_store_capacity: int | None = None
    capacity_applies_to_pickups: bool = False


class SafetyStockSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Units of every SKU kept back from a channel's orders (at every location)."""

    channel: str
    units: int


class FamilySpec(msgspec.Struct, frozen=True, kw_only=True):
    """A product type: each model comes in some of the colours, each colourway in every size."""

    code: str
    category: str
    label: str
    material: str
    description: str
    models: list[tuple[str, int]]  # (model name, price in cents of the smallest size)
    colours: list[str]
    colours_per_model: int
    sizes: list[str]
    size_extra_price: list[int] = []
    size_extra_weight_g: list[int] = []
    weight_g: int
    tax_class: str = "standard"  # books and food: super_reduced; plants: reduced

class DemoRetailer(msgspec.Struct, frozen=True, kw_only=True):
    brand: str
    company: CompanySpec
    tax_rates: list[TaxRateSpec]
    locations: list[LocationSpec]
    channels: list[ChannelSpec]
    routing_policy: RoutingPolicySpec
    channel_safety_stock: list[SafetyStockSpec] = []
    staff: list[StaffSpec]
    colours: dict[str, str]  # colour name -> the three letters used in SKUs
    families: list[FamilySpec]


def load_demo(path: Path = DATA_FILE) -> DemoRetailer:
    return msgspec.json.decode(path.read_bytes(), type=DemoRetailer)

