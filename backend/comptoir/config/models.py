"""Configuration tables (Piccolo). Operational data lives in SQLAlchemy tables elsewhere."""

from __future__ import annotations

from enum import Enum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Varchar,
)
from piccolo.columns.readable import Readable
from piccolo.table import Table

__all__ = [
    "AccountingAccount",
    "CapturePolicy",
    "Carrier",
    "ChannelSafetyStock",
    "Company",
    "FraudRule",
    "FraudRuleKind",
    "InvoicingPolicy",
    "Location",
    "LocationKind",
    "PaymentProvider",
    "Role",
    "RoutingPolicy",
    "SalesChannel",
    "ShippingRate",
    "StaffProfile",
    "TaxClass",
    "TaxRate",
]


# Piccolo choices stay (str, Enum): a StrEnum's str() is its value, not Class.member,
# which would change how every existing use renders them.
class LocationKind(str, Enum):  # noqa: UP042
    warehouse = "warehouse"
    store = "store"
    third_party = "3pl"


class ChannelKind(str, Enum):  # noqa: UP042
    web = "web"
    marketplace = "marketplace"
    pos = "pos"
    phone = "phone"
    mobile = "mobile"


class Role(str, Enum):  # noqa: UP042
    admin = "admin"
    manager = "manager"
    associate = "associate"
    channel = "channel"


class PaymentProvider(str, Enum):  # noqa: UP042
    none = "none"  # no payment through Comptoir (paid at the counter, on account)
    sandbox = "sandbox"  # built in: outcomes decided by the card token, for demos and tests
    stripe = "stripe"
    external = "external"  # the channel took the money: Comptoir records it


class CapturePolicy(str, Enum):  # noqa: UP042
    on_shipment = "on_shipment"  # each parcel or pickup is charged when it leaves
    at_capture = "at_capture"  # charged in full once authorized (digital goods, pre-orders)


class InvoicingPolicy(str, Enum):  # noqa: UP042
    per_shipment = "per_shipment"  # an invoice for each parcel shipped or pickup handed over
    per_order = "per_order"  # one invoice when nothing is left to ship or hand over


class TaxClass(str, Enum):  # noqa: UP042
    """A SKU's VAT class (catalog ``Variant.tax_class``); each country rates each class."""

    standard = "standard"
    reduced = "reduced"
    super_reduced = "super_reduced"
    zero = "zero"


class FraudRuleKind(str, Enum):  # noqa: UP042
    """What a fraud rule looks at (``orders.fraud.RuleKind``: the same values)."""

    amount_over = "amount_over"
    new_customer_amount_over = "new_customer_amount_over"
    countries_differ = "countries_differ"
    velocity_email = "velocity_email"
    velocity_phone = "velocity_phone"
    velocity_address = "velocity_address"
    watched_postcode = "watched_postcode"
    watched_email_domain = "watched_email_domain"
    many_cards = "many_cards"


class DeliveryMethod(str, Enum):  # noqa: UP042
    ship = "ship"
    pickup = "pickup"


class Location(Table, tablename="config_location"):
    """A place that holds stock: a warehouse, a store or a third-party logistics provider."""

    code = Varchar(length=40, unique=True, index=True)
    name = Varchar(length=120)
    kind = Varchar(length=12, choices=LocationKind, default=LocationKind.store)
    address_line1 = Varchar(length=200, default="")
    address_line2 = Varchar(length=200, default="")
    postal_code = Varchar(length=20, default="")
    city = Varchar(length=120, default="")
    country = Varchar(length=2, default="FR")
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    timezone = Varchar(length=60, default="Europe/Paris")
    ships = Boolean(default=True)
    serves_pickups = Boolean(default=False)
    daily_order_capacity = Integer(null=True, default=None)
    pickup_hold_days = Integer(default=7)
    opening_hours = Text(default="")
    active = Boolean(default=True)
    # Routing: a higher priority is preferred (0 by default); the shipping cost is what one
    # parcel from here typically costs the retailer, in minor units.
    routing_priority = Integer(default=0)
    shipping_cost = Integer(default=0)
    # A 3PL (kind "3pl") is handed its orders by a signed webhook to this URL; it signs the
    # events it sends back (``POST /api/fulfillments/{id}/events``) with the same secret.
    webhook_url = Varchar(length=300, default="")
    webhook_secret = Varchar(length=200, default="", secret=True)

    @classmethod
    def get_readable(cls) -> Readable:
        """How the admin names a location where another table points to it: its name (one
        column: with two, an empty reference would read " — ")."""
        return Readable(template="%s", columns=[cls.name])


class SalesChannel(Table, tablename="config_channel"):
    """Where orders come from: web shop, marketplace, store POS, phone, mobile app."""

    code = Varchar(length=40, unique=True, index=True)
    name = Varchar(length=120)
    kind = Varchar(length=12, choices=ChannelKind, default=ChannelKind.web)
    currency = Varchar(length=3, default="EUR")
    prices_include_tax = Boolean(default=True)
    active = Boolean(default=True)
    # Pickups of orders above this total (minor units of ``currency``) are handed over only
    # once the associate has checked the customer's ID. A channel, not a store: the amount
    # is in the channel's currency, and how an order was paid (online, at a till) is what
    # makes a stranger at the counter a risk.
    id_check_above = Integer(
        null=True, default=None,
        help_text="Pickups of orders above this total, in cents of the channel's currency "
                  "(50000 = 500.00), are handed over only after an ID check. Empty: never.")
    payment_provider = Varchar(
        length=12, choices=PaymentProvider, default=PaymentProvider.sandbox,
        help_text="Who takes this channel's payments: sandbox (demo), stripe, external (the "
                  "channel itself: marketplace, till) or none.")
    capture_policy = Varchar(
        length=12, choices=CapturePolicy, default=CapturePolicy.on_shipment,
        help_text="When the card is charged: on_shipment (each parcel or pickup as it leaves) "
                  "or at_capture (in full as soon as the order is authorized).")
    # Orders whose fraud score (the points of the rules they trip, ``FraudRule``) is over
    # this are held for a manager's review; None: no screening on this channel.
    fraud_threshold = Integer(
        null=True, default=None,
        help_text="Orders scoring more points than this are held for review "
                  "(suspected_fraud). Empty: no fraud screening on this channel.")

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class Company(Table, tablename="config_company"):
    """The retailer's legal details, printed on invoices."""

    legal_name = Varchar(length=200)
    address_line1 = Varchar(length=200, default="")
    address_line2 = Varchar(length=200, default="")
    postal_code = Varchar(length=20, default="")
    city = Varchar(length=120, default="")
    country = Varchar(length=2, default="FR")
    vat_number = Varchar(length=40, default="")
    email = Varchar(length=200, default="")
    phone = Varchar(length=40, default="")
    # The French legal mentions of an invoice (Code de commerce R123-237, CGI 242 nonies A).
    legal_form = Varchar(length=40, default="")
    share_capital = Varchar(length=60, default="")  # as printed: "10 000 €"
    siren = Varchar(length=9, default="")
    siret = Varchar(length=14, default="")
    rcs = Varchar(length=120, default="")  # "RCS Lyon 123 456 789"
    website = Varchar(length=200, default="")
    logo_path = Varchar(length=300, default="")  # a file under var/; empty: no logo
    # Invoicing: numbers "<prefix>-<year>-000001", one gapless sequence per kind and year.
    invoice_prefix = Varchar(length=10, default="FA")
    credit_note_prefix = Varchar(length=10, default="AV")
    invoicing_policy = Varchar(length=16, choices=InvoicingPolicy,
                               default=InvoicingPolicy.per_shipment)
    payment_terms_days = Integer(default=30)  # business customers: due this many days after
    late_penalty_rate = Varchar(length=200, default="trois fois le taux d\u2019intérêt légal")
    customers_account = Varchar(length=20, default="411000")  # the accounting export's


class AccountingAccount(Table, tablename="config_accounting_account"):
    """The accounts the accounting export books sales and VAT on, for one VAT rate."""

    vat_rate_bp = Integer(unique=True, default=2000)
    sales_account = Varchar(length=20, default="706000")
    vat_account = Varchar(length=20, default="445710")


class TaxRate(Table, tablename="config_tax_rate"):
    """The VAT rate of a tax class in a country, in basis points (2000 = 20 %).

    One row per (country, tax class): a unique index the migrations make (Piccolo has no
    composite unique constraint). A country without any row is taxed at 20 % for its
    standard class; an order with a SKU whose class has no row for its country is refused
    (``vat_rate_missing``)."""

    country = Varchar(length=2)
    tax_class = Varchar(
        length=16, choices=TaxClass, default=TaxClass.standard,
        help_text="standard, reduced, super_reduced or zero: each SKU has one (France: "
                  "20 %, 10 %, 5.5 %, 0 %).")
    rate_bp = Integer(default=2000)
    name = Varchar(length=60, default="TVA")


class ShippingRate(Table, tablename="config_shipping_rate"):
    """The fee a channel charges for a delivery method, in minor units of its currency."""

    channel = ForeignKey(SalesChannel)
    method = Varchar(length=12, choices=DeliveryMethod, default=DeliveryMethod.ship)
    fee = Integer(default=0)
    free_from = Integer(null=True, default=None)


class StaffProfile(Table, tablename="config_staff_profile"):
    """What a staff member may do in Comptoir: their role and home location."""

    user = ForeignKey(BaseUser, unique=True)
    role = Varchar(length=12, choices=Role, default=Role.associate)
    location = ForeignKey(Location, null=True, default=None)


class RoutingPolicy(Table, tablename="config_routing_policy"):
    """How orders are routed to locations (one row; Comptoir's defaults when there is none).

    Each location gets a score, lower is better: ``distance_weight`` points per km from the
    delivery address, ``shipping_cost_weight`` points per minor unit of its shipping cost,
    ``priority_weight`` points per priority level below the best; a plan over several
    locations adds ``split_penalty`` points per extra location.
    """

    distance_weight = DoublePrecision(default=1.0)
    shipping_cost_weight = DoublePrecision(default=0.1)
    priority_weight = DoublePrecision(default=100.0)
    split_penalty = DoublePrecision(default=300.0)
    max_splits = Integer(default=2)  # the most locations one order is split over (1: never)
    stores_may_ship = Boolean(default=True)
    # Daily order capacity of stores that have none of their own (empty: unlimited).
    default_store_capacity = Integer(null=True, default=None)
    # A customer who chose a store for pickup is served there even when it is at capacity,
    # unless this is on.
    capacity_applies_to_pickups = Boolean(default=False)


class ChannelSafetyStock(Table, tablename="config_channel_safety_stock"):
    """Units of every SKU a location keeps back from a channel's orders (e.g. marketplaces).

    Without a location, the rule applies at every location; a row for a location wins over it.
    """

    channel = ForeignKey(SalesChannel)
    location = ForeignKey(Location, null=True, default=None)
    units = Integer(default=0)


class FraudRule(Table, tablename="config_fraud_rule"):
    """A fraud rule: when an order trips it, ``points`` are added to its score, with a reason.

    Without a channel, it applies to every channel. Which figures count depends on ``kind``
    (``orders.fraud``): ``amount`` (minor units) for the amount rules, ``at_least`` and
    ``minutes`` for velocity (``at_least`` orders within ``minutes``) and many_cards,
    ``values`` (comma-separated) for the watch lists. ``at_least`` is the rule's count: a
    column named ``count`` would hide Piccolo's ``Table.count()``, which piccolo-admin's
    lists call.
    """

    channel = ForeignKey(SalesChannel, null=True, default=None)
    kind = Varchar(length=32, choices=FraudRuleKind, default=FraudRuleKind.amount_over)
    points = Integer(default=10)
    amount = Integer(null=True, default=None)
    minutes = Integer(null=True, default=None)
    at_least = Integer(null=True, default=None)
    values = Text(default="")
    active = Boolean(default=True)


class Carrier(Table, tablename="config_carrier"):
    """A carrier parcels are given to; ``{tracking}`` in the template is the parcel's number."""

    code = Varchar(length=40, unique=True, index=True)
    name = Varchar(length=120)
    tracking_url_template = Varchar(length=300, default="")
    active = Boolean(default=True)
