"""The demo catalog and its opening stock: derived from the data file's lists by pure
functions (the same on every run and machine), then written through the catalog and
inventory services."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import msgspec

from comptoir.seed.demo import DemoRetailer, LocationSpec
from comptoir.settings import Settings

__all__ = [
    "ACTOR",
    "PlannedProduct",
    "PlannedVariant",
    "demo_barcode",
    "draw",
    "ean13_check_digit",
    "plan_catalog",
    "plan_stock",
    "seed_catalog_and_stock",
]

ACTOR = "seed-demo"
OPENING_STOCK_REFERENCE = "DEMO-OPENING-STOCK"
# Warehouses hold the whole range; each store carries about this share of the products.
STORE_ASSORTMENT_PERCENT = 60
WAREHOUSE_UNITS = (12, 150)
STORE_UNITS = (1, 12)


class PlannedVariant(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    barcode: str
    name: str
    options: dict[str, str]
    price: int
    weight_g: int
    tax_class: str = "standard"


class PlannedProduct(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    category: str
    variants: list[PlannedVariant]


def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit of 12 digits (weights 1 and 3 from the left)."""
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(first12))
    return (10 - total % 10) % 10


def draw(*parts: str) -> int:
    """A stable pseudo-random number for ``parts``: the same on every run and machine."""
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def demo_barcode(sku: str) -> str:
    """An EAN-13 for a demo SKU, derived from the SKU so it never changes between runs.

    GS1 prefix 20 is for numbers a retailer assigns in-house (restricted circulation): it can
    never be the GTIN of a real product someone scans.
    """
    body = f"20{draw('barcode', sku) % 10**10:010d}"
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
                        tax_class=family.tax_class,
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
                draw("assortment", product.variants[0].sku, location.code) % 100
                >= STORE_ASSORTMENT_PERCENT
            ):
                continue
            low, high = STORE_UNITS if is_store else WAREHOUSE_UNITS
            for variant in product.variants:
                units = low + draw("units", variant.sku, location.code) % (high - low + 1)
                receipts.append((variant.sku, location.code, units))
    return receipts



async def seed_catalog_and_stock(
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
                                        weight_g=v.weight_g, tax_class=v.tax_class)
                              for v in product.variants],
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

