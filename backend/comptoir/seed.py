"""``comptoir seed-demo``: a believable French retailer to try Comptoir with, loaded idempotently.

The retailer, Quai Neuf, is fictitious. Its network, channels, VAT rates, staff and catalog
families are read from ``data/demo_retailer.json``; products, SKUs, barcodes and opening stock
are derived from those lists by pure functions, the same on every run and every machine, so a
second run finds everything already there (by location and channel code, VAT country, SKU and
username) and changes nothing. What exists is never modified: the seed only adds what is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from comptoir.settings import Settings

__all__ = [
    "DemoRetailer",
    "PlannedProduct",
    "PlannedVariant",
    "SeedReport",
    "demo_barcode",
    "ean13_check_digit",
    "load_demo",
    "plan_catalog",
    "plan_stock",
    "seed_demo",
]

DATA_FILE = Path(__file__).resolve().parent / "data" / "demo_retailer.json"
ACTOR = "seed-demo"
OPENING_STOCK_REFERENCE = "DEMO-OPENING-STOCK"
# Warehouses hold the whole range; each store carries about this share of the products.
STORE_ASSORTMENT_PERCENT = 60
WAREHOUSE_UNITS = (12, 150)
STORE_UNITS = (1, 12)
# The carriers Quai Neuf ships with: (code, name, tracking link with {tracking}). A fresh
# database already has the first five (configuration migration 0004); the seed adds any
# that is missing, by code, and leaves an existing one as the admin set it.
DEMO_CARRIERS = [
    ("colissimo", "Colissimo", "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking}"),
    ("chronopost", "Chronopost",
     "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={tracking}"),
    ("dhl", "DHL", "https://www.dhl.com/fr-fr/home/tracking.html?tracking-id={tracking}"),
    ("ups", "UPS", "https://www.ups.com/track?tracknum={tracking}"),
    ("dpd", "DPD", "https://trace.dpd.fr/fr/trace/{tracking}"),
    ("mondial-relay", "Mondial Relay",
     "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition={tracking}"),
    ("gls", "GLS", "https://gls-group.com/FR/fr/suivi-colis?match={tracking}"),
]


# --- the data file ------------------------------------------------------------------------------


class CompanySpec(msgspec.Struct, frozen=True, kw_only=True):
    legal_name: str
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
    country: str
    rate_bp: int
    name: str


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


class DemoRetailer(msgspec.Struct, frozen=True, kw_only=True):
    brand: str
    company: CompanySpec
    tax_rates: list[TaxRateSpec]
    locations: list[LocationSpec]
    channels: list[ChannelSpec]
    staff: list[StaffSpec]
    colours: dict[str, str]  # colour name -> the three letters used in SKUs
    families: list[FamilySpec]


def load_demo(path: Path = DATA_FILE) -> DemoRetailer:
    return msgspec.json.decode(path.read_bytes(), type=DemoRetailer)


# --- the catalog and the stock, derived from the lists (no I/O) --------------------------------


class PlannedVariant(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    barcode: str
    name: str
    options: dict[str, str]
    price: int
    weight_g: int


class PlannedProduct(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    category: str
    variants: list[PlannedVariant]


def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit of 12 digits (weights 1 and 3 from the left)."""
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(first12))
    return (10 - total % 10) % 10


def _draw(*parts: str) -> int:
    """A stable pseudo-random number for ``parts``: the same on every run and machine."""
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def demo_barcode(sku: str) -> str:
    """An EAN-13 for a demo SKU, derived from the SKU so it never changes between runs.

    GS1 prefix 20 is for numbers a retailer assigns in-house (restricted circulation): it can
    never be the GTIN of a real product someone scans.
    """
    body = f"20{_draw('barcode', sku) % 10**10:010d}"
    return body + str(ean13_check_digit(body))


def _ascii_upper(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.upper()


def _model_code(model: str) -> str:
    return re.sub(r"[^A-Z]", "", _ascii_upper(model))


def _size_code(size: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", _ascii_upper(size).replace(" X ", "X"))


def _per_size(values: Sequence[int], sizes: Sequence[str], family: str, what: str) -> list[int]:
    if not values:
        return [0] * max(1, len(sizes))
    if len(values) != len(sizes):
        raise ValueError(f"family {family}: {what} needs one value per size")
    return list(values)


def plan_catalog(demo: DemoRetailer) -> list[PlannedProduct]:
    """Every product of the demo catalog: one per model and colourway, one SKU per size."""
    products: list[PlannedProduct] = []
    skus: set[str] = set()
    barcodes: set[str] = set()
    for family in demo.families:
        extra_price = _per_size(family.size_extra_price, family.sizes, family.code, "prices")
        extra_weight = _per_size(family.size_extra_weight_g, family.sizes, family.code, "weights")
        per_model = family.colours_per_model
        for index, (model, price) in enumerate(family.models):
            # Models of a family rotate through its colours, so each shows a different range.
            colourways: list[str | None] = [
                family.colours[(index * per_model + j) % len(family.colours)]
                for j in range(per_model)
            ] or [None]
            base_name = " ".join(part for part in (family.label, model, family.material) if part)
            for colour in colourways:
                name = f"{base_name} — {colour}" if colour else base_name
                stem = [family.code, _model_code(model)]
                if colour is not None:
                    stem.append(demo.colours[colour])
                variants = []
                for i, size in enumerate(family.sizes or [None]):
                    options: dict[str, str] = {}
                    if colour is not None:
                        options["colour"] = colour
                    if size is not None:
                        options["size"] = size
                    sku = "-".join(stem + ([_size_code(size)] if size else []))
                    barcode = demo_barcode(sku)
                    if sku in skus or barcode in barcodes:
                        raise ValueError(f"the demo catalog makes SKU {sku} or its barcode twice")
                    skus.add(sku)
                    barcodes.add(barcode)
                    variants.append(PlannedVariant(
                        sku=sku, barcode=barcode,
                        name=f"{name} — {size}" if size else name, options=options,
                        price=price + extra_price[i], weight_g=family.weight_g + extra_weight[i],
                    ))
                products.append(PlannedProduct(
                    name=name, description=family.description, category=family.category,
                    variants=variants,
                ))
    return products


def plan_stock(
    products: Sequence[PlannedProduct], locations: Sequence[LocationSpec]
) -> list[tuple[str, str, int]]:
    """Opening stock as (sku, location code, units): the whole range in every warehouse,
    part of it in each store; a product a store carries is there in every size."""
    receipts = []
    for product in products:
        for location in locations:
            is_store = location.kind == "store"
            if is_store and (
                _draw("assortment", product.variants[0].sku, location.code) % 100
                >= STORE_ASSORTMENT_PERCENT
            ):
                continue
            low, high = STORE_UNITS if is_store else WAREHOUSE_UNITS
            for variant in product.variants:
                units = low + _draw("units", variant.sku, location.code) % (high - low + 1)
                receipts.append((variant.sku, location.code, units))
    return receipts


# --- writing it -------------------------------------------------------------------------------


class SeedReport(msgspec.Struct, kw_only=True):
    """What the database holds after the seed, and how much of it this run added."""

    brand: str
    company: str = ""
    warehouses: int = 0
    stores: int = 0
    channels: list[str] = []
    vat_countries: int = 0
    products: int = 0
    skus: int = 0
    stock_levels: int = 0
    stocked_locations: int = 0
    units: int = 0
    created: dict[str, int] = {}

    @property
    def changed_anything(self) -> bool:
        return any(self.created.values())


def _piccolo_transaction(table: Any) -> Any:
    from piccolo.engine.sqlite import SQLiteEngine, TransactionType

    engine = table._meta.db
    if isinstance(engine, SQLiteEngine):
        # Take the write lock up front, as the SQLAlchemy side does, so a concurrent writer
        # makes this wait instead of failing half-way.
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def _seed_configuration(demo: DemoRetailer, created: dict[str, int]) -> None:
    """Company, VAT rates, locations, channels (with their shipping rates), carriers, staff."""
    from piccolo.apps.user.tables import BaseUser

    from comptoir.auth.service import create_staff
    from comptoir.config.models import (
        Carrier,
        Company,
        Location,
        SalesChannel,
        ShippingRate,
        TaxRate,
    )

    async with _piccolo_transaction(Location):
        if await Company.count() == 0:
            await Company(**msgspec.structs.asdict(demo.company)).save()
            created["company"] = 1

        have = {r["country"] for r in await TaxRate.select(TaxRate.country)}
        rates = [TaxRate(**msgspec.structs.asdict(t)) for t in demo.tax_rates
                 if t.country not in have]
        if rates:
            await TaxRate.insert(*rates)
        created["vat_rates"] = len(rates)

        have = {r["code"] for r in await Location.select(Location.code)}
        locations = [Location(**msgspec.structs.asdict(loc)) for loc in demo.locations
                     if loc.code not in have]
        if locations:
            await Location.insert(*locations)
        created["locations"] = len(locations)

        have = {r["code"] for r in await SalesChannel.select(SalesChannel.code)}
        new_channels = [ch for ch in demo.channels if ch.code not in have]
        if new_channels:
            await SalesChannel.insert(*[
                SalesChannel(code=ch.code, name=ch.name, kind=ch.kind, currency=ch.currency,
                             prices_include_tax=ch.prices_include_tax)
                for ch in new_channels
            ])
            ids = {r["code"]: r["id"] for r in await SalesChannel.select()}
            # Rates come with a channel the seed creates; an existing channel keeps its own.
            shipping = [ShippingRate(channel=ids[ch.code], **msgspec.structs.asdict(rate))
                        for ch in new_channels for rate in ch.shipping_rates]
            if shipping:
                await ShippingRate.insert(*shipping)
        created["channels"] = len(new_channels)

        have = {r["code"] for r in await Carrier.select(Carrier.code)}
        carriers = [Carrier(code=code, name=name, tracking_url_template=template, active=True)
                    for code, name, template in DEMO_CARRIERS if code not in have]
        if carriers:
            await Carrier.insert(*carriers)
        created["carriers"] = len(carriers)

        have = {r["username"] for r in await BaseUser.select(BaseUser.username)}
        staff = [s for s in demo.staff if s.username not in have]
        for member in staff:
            await create_staff(username=member.username, password=member.password,
                               role=member.role, location=member.location, email=member.email)
        created["staff"] = len(staff)


async def _seed_catalog_and_stock(
    settings: Settings, demo: DemoRetailer, created: dict[str, int]
) -> None:
    """Products and SKUs the database lacks, with their opening stock, in one transaction."""
    from sqlalchemy import select

    from comptoir.catalog import service as catalog
    from comptoir.catalog.models import Variant
    from comptoir.catalog.schemas import ProductIn, VariantIn
    from comptoir.config import service as config
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.inventory import service as inventory

    plan = plan_catalog(demo)
    await config.list_locations()  # warm the cache before the write transaction starts
    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            planned_skus = [v.sku for p in plan for v in p.variants]
            existing = set(await session.scalars(
                select(Variant.sku).where(Variant.sku.in_(planned_skus))))
            # A product is the seed's to create only if none of its SKUs exists yet.
            new = [p for p in plan if not any(v.sku in existing for v in p.variants)]
            for product in new:
                await catalog.create_product(session, ProductIn(
                    name=product.name, description=product.description, brand=demo.brand,
                    category=product.category,
                    variants=[VariantIn(sku=v.sku, price=v.price, barcode=v.barcode, name=v.name,
                                        options=dict(v.options), currency="EUR",
                                        weight_g=v.weight_g) for v in product.variants],
                ), actor=ACTOR)
            receipts = plan_stock(new, demo.locations)
            await inventory.receive_stock(
                session, receipts, actor=ACTOR, reference=OPENING_STOCK_REFERENCE,
                reason="Stock d'ouverture (données de démonstration)",
            )
            created["products"] = len(new)
            created["skus"] = sum(len(p.variants) for p in new)
            created["stock_levels"] = len(receipts)
    finally:
        await engine.dispose()


async def _report(settings: Settings, demo: DemoRetailer, created: dict[str, int]) -> SeedReport:
    from sqlalchemy import func, select

    from comptoir.catalog.models import Product, Variant
    from comptoir.config import service as config
    from comptoir.config.models import TaxRate
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.inventory.models import InventoryLevel

    locations = await config.list_locations()
    company = await config.company()
    report = SeedReport(
        brand=demo.brand,
        company=f"{company.legal_name} ({company.vat_number})" if company else "",
        warehouses=sum(1 for loc in locations if loc.kind == "warehouse"),
        stores=sum(1 for loc in locations if loc.kind == "store"),
        channels=[ch.code for ch in await config.list_channels()],
        vat_countries=await TaxRate.count(),
        created=created,
    )
    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            report.products = await session.scalar(select(func.count()).select_from(Product)) or 0
            report.skus = await session.scalar(select(func.count()).select_from(Variant)) or 0
            levels, stocked, units = (await session.execute(select(
                func.count(),
                func.count(func.distinct(InventoryLevel.location)),
                func.coalesce(func.sum(InventoryLevel.on_hand), 0),
            ))).one()
            report.stock_levels, report.stocked_locations, report.units = levels, stocked, units
    finally:
        await engine.dispose()
    return report


async def seed_demo(settings: Settings, demo: DemoRetailer | None = None) -> SeedReport:
    """Load the demo retailer into a migrated database; adds only what is missing.

    Piccolo's tables must already be bound to ``settings``' database (the command does it).
    """
    from comptoir.config import service as config

    demo = demo or load_demo()
    created: dict[str, int] = {}
    # Piccolo's writes first and committed, then SQLAlchemy's: on SQLite each takes the write
    # lock for its whole transaction, so interleaving them would make one wait on the other.
    await _seed_configuration(demo, created)
    config.invalidate()
    await _seed_catalog_and_stock(settings, demo, created)
    return await _report(settings, demo, created)


# --- the command --------------------------------------------------------------------------------


def _print_report(report: SeedReport, demo: DemoRetailer) -> None:
    if report.changed_anything:
        print(f"{report.brand} demo data loaded.")
    else:
        print(f"{report.brand} demo data is already seeded: nothing changed.")
    print(f"  company     {report.company}")
    print(f"  locations   {report.warehouses} warehouses, {report.stores} stores")
    print(f"  channels    {', '.join(report.channels)} (EUR)")
    print(f"  VAT rates   {report.vat_countries} countries")
    print(f"  catalog     {report.products} products, {report.skus} SKUs")
    print(f"  stock       {report.units} units in {report.stock_levels} levels "
          f"at {report.stocked_locations} locations")
    print()
    print("Demo logins (sign in at / and, for the admin, at /admin/):")
    for member in demo.staff:
        where = f"  at {member.location}" if member.location else ""
        print(f"  {member.role:<10} username {member.username:<10} "
              f"password {member.password}{where}")


async def seed_demo_cmd(settings: Settings, _args: argparse.Namespace) -> int:
    from comptoir.config.engine import bind_piccolo, make_piccolo_engine
    from comptoir.config.models import Location

    bind_piccolo(make_piccolo_engine(settings))
    if not await Location.table_exists():
        print("comptoir seed-demo: the database has no tables yet; run `comptoir migrate` first.",
              file=sys.stderr)
        return 1
    demo = load_demo()
    report = await seed_demo(settings, demo)
    _print_report(report, demo)
    return 0
