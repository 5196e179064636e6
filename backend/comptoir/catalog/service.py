"""Catalog rules: SKUs are unique, prices are integer minor units, products deactivate."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from typing import TypeVar

import msgspec
from msgspec import UnsetType
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.catalog.models import Product, Variant
from comptoir.catalog.schemas import ProductIn, ProductPatch, VariantIn, VariantPatch
from comptoir.db.base import utcnow
from comptoir.errors import Conflict, InvalidInput, NotFound
from comptoir.events.service import record_event
from comptoir.events.types import EventType

__all__ = [
    "MAX_PRICE",
    "activate_product",
    "clean_variant",
    "create_product",
    "deactivate_product",
    "default_variant_name",
    "find_product_by_name",
    "get_product",
    "get_variant",
    "list_products",
    "search_key",
    "sku_exists",
    "update_product",
    "variants_by_sku",
]

# Prices and weights are 32-bit integer columns; refuse what they cannot hold with a sentence
# rather than a database error.
MAX_PRICE = 1_000_000_000
MAX_WEIGHT_G = 100_000_000
MAX_SKU_LENGTH = 64
MAX_BARCODE_LENGTH = 32
# A SKU travels in URLs (/api/skus/{sku}) and in CSV files: no spaces, no URL separators.
_SKU = re.compile(r"[^\s/?#%\\]+")
_BARCODE = re.compile(r"[0-9A-Za-z.\-]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_TEXT_LIMITS = {"name": 200, "brand": 120, "category": 120, "description": 20_000}

T = TypeVar("T")


# --- pure rules (no database) -------------------------------------------------------------------


def search_key(text: str) -> str:
    """Lower-case, accent-free text, so "ecru" finds "Écru" and "T-SHIRT" finds "t-shirt"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return folded.strip()[:200]


def _clean_text(field: str, value: str, *, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"A product needs a {field}.", code=f"{field}_required", field=field)
    limit = _TEXT_LIMITS[field]
    if len(value) > limit:
        raise InvalidInput(
            f"The {field} is {len(value)} characters long; at most {limit} are allowed.",
            code="text_too_long", field=field,
        )
    return value


def default_variant_name(product_name: str, options: dict[str, str]) -> str:
    """"Marinière — M / bleu": the product's name and the variant's option values."""
    if not options:
        return product_name[:200]
    return f"{product_name} — {' / '.join(options.values())}"[:200]


def clean_variant(variant: VariantIn, product_name: str) -> VariantIn:
    """The variant with its text trimmed and normalized, or a refusal saying what is wrong."""
    sku = variant.sku.strip()
    if not sku:
        raise InvalidInput("Every variant needs a SKU.", code="empty_sku")
    if len(sku) > MAX_SKU_LENGTH or not _SKU.fullmatch(sku):
        raise InvalidInput(
            f"SKU '{sku}' is not valid: at most {MAX_SKU_LENGTH} characters, without spaces "
            "or any of / ? # % \\.",
            code="invalid_sku", sku=sku,
        )
    if variant.price < 0:
        raise InvalidInput(f"{sku}: a price cannot be negative.", code="negative_price", sku=sku)
    if variant.price > MAX_PRICE:
        raise InvalidInput(
            f"{sku}: a price is in minor units (1999 = 19.99) and at most {MAX_PRICE}.",
            code="price_too_large", sku=sku,
        )
    currency = variant.currency.strip().upper()
    if not _CURRENCY.fullmatch(currency):
        raise InvalidInput(
            f"{sku}: currency '{variant.currency}' is not a three-letter ISO 4217 code "
            "such as EUR.",
            code="invalid_currency", sku=sku,
        )
    barcode = (variant.barcode or "").strip() or None
    if barcode is not None and (
        len(barcode) > MAX_BARCODE_LENGTH or not _BARCODE.fullmatch(barcode)
    ):
        raise InvalidInput(
            f"{sku}: barcode '{barcode}' is not valid: letters, digits, '.' or '-', at most "
            f"{MAX_BARCODE_LENGTH}.",
            code="invalid_barcode", sku=sku,
        )
    weight = variant.weight_g or 0
    if not 0 <= weight <= MAX_WEIGHT_G:
        raise InvalidInput(
            f"{sku}: a weight is a whole number of grams between 0 and {MAX_WEIGHT_G}.",
            code="invalid_weight", sku=sku,
        )
    options: dict[str, str] = {}
    for key, value in variant.options.items():
        key, value = key.strip(), value.strip()
        if not key or len(key) > 40 or len(value) > 100:
            raise InvalidInput(
                f"{sku}: option names are 1 to 40 characters and values at most 100.",
                code="invalid_option", sku=sku,
            )
        if value:
            options[key] = value
    name = (variant.name or "").strip() or default_variant_name(product_name, options)
    if len(name) > 200:
        raise InvalidInput(f"{sku}: a variant name is at most 200 characters.",
                           code="text_too_long", field="name", sku=sku)
    return VariantIn(sku=sku, price=variant.price, barcode=barcode, name=name, options=options,
                     currency=currency, weight_g=weight)


def _refuse_repeats(variants: Iterable[VariantIn]) -> None:
    """The same SKU or barcode twice in one request is a mistake, not two variants."""
    skus: set[str] = set()
    barcodes: set[str] = set()
    for v in variants:
        if v.sku in skus:
            raise Conflict(f"SKU '{v.sku}' appears twice.", code="duplicate_sku", sku=v.sku)
        skus.add(v.sku)
        if v.barcode is not None:
            if v.barcode in barcodes:
                raise Conflict(f"Barcode '{v.barcode}' appears twice.", code="duplicate_barcode",
                               barcode=v.barcode)
            barcodes.add(v.barcode)


# --- queries ------------------------------------------------------------------------------------


async def sku_exists(session: AsyncSession, sku: str) -> bool:
    return bool(await session.scalar(select(exists().where(Variant.sku == sku))))


async def variants_by_sku(session: AsyncSession, skus: Sequence[str]) -> dict[str, Variant]:
    """The variants of the given SKUs that exist, by SKU."""
    if not skus:
        return {}
    result = await session.scalars(select(Variant).where(Variant.sku.in_(list(set(skus)))))
    return {v.sku: v for v in result}


async def _refuse_foreign_skus(
    session: AsyncSession, skus: Sequence[str], *, product_id: uuid.UUID | None = None
) -> None:
    """Refuse SKUs that already exist on another product."""
    owners = await session.execute(
        select(Variant.sku, Variant.product_id).where(Variant.sku.in_(list(skus)))
    )
    for sku, owner in owners:
        if owner != product_id:
            raise Conflict(f"SKU '{sku}' already exists (on another product).",
                           code="duplicate_sku", sku=sku)


async def _refuse_taken_barcodes(session: AsyncSession, variants: Sequence[VariantIn]) -> None:
    """Refuse barcodes that another SKU already carries."""
    wanted = {v.barcode: v.sku for v in variants if v.barcode is not None}
    if not wanted:
        return
    holders = await session.execute(
        select(Variant.barcode, Variant.sku).where(Variant.barcode.in_(list(wanted)))
    )
    for barcode, holder in holders:
        if holder != wanted[barcode]:
            raise Conflict(f"Barcode '{barcode}' already belongs to SKU '{holder}'.",
                           code="duplicate_barcode", barcode=barcode, sku=holder)


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound(f"No product with id {product_id}.", code="unknown_product")
    return product


async def get_variant(session: AsyncSession, sku: str) -> tuple[Variant, Product]:
    """The variant with this SKU and its product; 404 ``unknown_sku`` if there is none."""
    row = (
        await session.execute(
            select(Variant, Product).join(Product, Variant.product_id == Product.id)
            .where(Variant.sku == sku)
        )
    ).first()
    if row is None:
        raise NotFound(f"Unknown SKU '{sku}'.", code="unknown_sku", sku=sku)
    return row[0], row[1]


async def find_product_by_name(session: AsyncSession, name: str) -> Product | None:
    """The one product with exactly this name (ignoring case and accents), if only one has it."""
    key = search_key(name)
    found = list(await session.scalars(select(Product).where(Product.search_name == key).limit(2)))
    return found[0] if len(found) == 1 and search_key(found[0].name) == key else None


async def list_products(
    session: AsyncSession,
    *,
    q: str | None = None,
    active: bool | None = None,
    after: tuple[str, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[Product]:
    """Products by name, keyset-paginated after ``(search_name, id)``.

    ``q`` matches part of the name (case and accents ignored), of a SKU (case ignored) or of a
    barcode.
    """
    query = select(Product)
    if active is not None:
        query = query.where(Product.active == active)
    needle = (q or "").strip()
    if needle:
        folded, lowered = search_key(needle), needle.lower()
        # Products written before names were accent-folded keep a lower-cased search_name.
        by_name = [Product.search_name.contains(k, autoescape=True) for k in {folded, lowered}]
        by_variant = select(Variant.product_id).where(
            or_(
                func.lower(Variant.sku).contains(lowered, autoescape=True),
                Variant.barcode.contains(needle, autoescape=True),
            )
        )
        query = query.where(or_(*by_name, Product.id.in_(by_variant)))
    if after is not None:
        query = query.where(
            or_(
                Product.search_name > after[0],
                and_(Product.search_name == after[0], Product.id > after[1]),
            )
        )
    result = await session.scalars(query.order_by(Product.search_name, Product.id).limit(limit))
    return list(result)


# --- changes ------------------------------------------------------------------------------------


def _new_variant(v: VariantIn) -> Variant:
    return Variant(sku=v.sku, barcode=v.barcode, name=v.name, options=dict(v.options),
                   price=v.price, currency=v.currency, weight_g=v.weight_g or 0, active=True)


async def _product_event(
    session: AsyncSession, product: Product, type: EventType, actor: str
) -> None:
    await record_event(
        session, topic=type.topic, type=type, subject=str(product.id),
        data={"id": str(product.id), "name": product.name, "active": product.active,
              "skus": [v.sku for v in product.variants]},
        actor=actor,
    )


async def create_product(session: AsyncSession, data: ProductIn, *, actor: str) -> Product:
    """A new product with its variants; refused whole if any SKU or barcode is taken."""
    name = _clean_text("name", data.name, required=True)
    if not data.variants:
        raise InvalidInput("A product needs at least one variant (a SKU with a price).",
                           code="variants_required")
    variants = [clean_variant(v, name) for v in data.variants]
    _refuse_repeats(variants)
    await _refuse_foreign_skus(session, [v.sku for v in variants])
    await _refuse_taken_barcodes(session, variants)
    product = Product(
        name=name, search_name=search_key(name),
        description=_clean_text("description", data.description),
        brand=_clean_text("brand", data.brand), category=_clean_text("category", data.category),
        active=True,
    )
    product.variants = [_new_variant(v) for v in variants]
    session.add(product)
    await session.flush()
    await _product_event(session, product, EventType.CATALOG_PRODUCT_CREATED, actor)
    return product


def _or(value: T | UnsetType, current: T) -> T:
    return current if isinstance(value, UnsetType) else value


def _has_default_name(variant: Variant, product_name: str) -> bool:
    return variant.name == default_variant_name(product_name, variant.options)


def _merge(existing: Variant, patch: VariantPatch, product_name: str) -> VariantIn:
    """The variant as it will be once ``patch`` applies, for validation in one place.

    A name Comptoir made up (product name and options) is made up again from the new values.
    """
    kept_name = None if _has_default_name(existing, product_name) else existing.name
    return VariantIn(
        sku=existing.sku,
        price=_or(patch.price, existing.price),
        barcode=_or(patch.barcode, existing.barcode),
        name=_or(patch.name, kept_name),
        options=_or(patch.options, existing.options),
        currency=_or(patch.currency, existing.currency),
        weight_g=_or(patch.weight_g, existing.weight_g),
    )


def _as_new(patch: VariantPatch) -> VariantIn:
    if isinstance(patch.price, UnsetType):
        raise InvalidInput(f"{patch.sku} is a new SKU: it needs a price.",
                           code="price_required", sku=patch.sku)
    return VariantIn(
        sku=patch.sku, price=patch.price, barcode=_or(patch.barcode, None),
        name=_or(patch.name, None), options=_or(patch.options, {}),
        currency=_or(patch.currency, "EUR"), weight_g=_or(patch.weight_g, None),
    )


async def update_product(
    session: AsyncSession, product_id: uuid.UUID, patch: ProductPatch, *, actor: str
) -> Product:
    """Change product fields; update its variants by SKU and add the SKUs it does not have."""
    product = await get_product(session, product_id)
    name = product.name
    if not isinstance(patch.name, UnsetType):
        name = _clean_text("name", patch.name, required=True)
    texts = {
        field: _clean_text(field, value)
        for field, value in (("description", patch.description), ("brand", patch.brand),
                             ("category", patch.category))
        if isinstance(value, str)
    }
    current = {v.sku: v for v in product.variants}
    patches = [
        msgspec.structs.replace(p, sku=p.sku.strip()) for p in _or(patch.variants, [])
    ]
    await _refuse_foreign_skus(
        session, [p.sku for p in patches if p.sku not in current], product_id=product.id
    )
    changes: list[tuple[VariantIn, VariantPatch]] = []
    for variant_patch in patches:
        sku = variant_patch.sku
        if sku in current:
            merged = _merge(current[sku], variant_patch, product.name)
        else:
            merged = _as_new(variant_patch)
        changes.append((clean_variant(merged, name), variant_patch))
    _refuse_repeats(v for v, _ in changes)
    await _refuse_taken_barcodes(session, [v for v, _ in changes])

    if name != product.name:
        patched = {v.sku for v, _ in changes}
        for untouched in product.variants:
            if untouched.sku not in patched and _has_default_name(untouched, product.name):
                untouched.name = default_variant_name(name, untouched.options)
    product.name, product.search_name = name, search_key(name)
    for field, value in texts.items():
        setattr(product, field, value)
    for cleaned, variant_patch in changes:
        variant = current.get(cleaned.sku)
        if variant is None:
            product.variants.append(_new_variant(cleaned))
            continue
        variant.barcode = cleaned.barcode
        variant.name = cleaned.name or variant.name  # clean_variant always gives a name
        variant.options = dict(cleaned.options)
        variant.price = cleaned.price
        variant.currency = cleaned.currency
        variant.weight_g = cleaned.weight_g or 0
        variant.active = _or(variant_patch.active, variant.active)
    product.updated_at = utcnow()
    await session.flush()
    await _product_event(session, product, EventType.CATALOG_PRODUCT_UPDATED, actor)
    return product


async def _set_active(
    session: AsyncSession, product_id: uuid.UUID, active: bool, actor: str
) -> Product:
    product = await get_product(session, product_id)
    product.active = active
    for variant in product.variants:
        variant.active = active
    product.updated_at = utcnow()
    await session.flush()
    await _product_event(
        session, product,
        EventType.CATALOG_PRODUCT_ACTIVATED if active else EventType.CATALOG_PRODUCT_DEACTIVATED,
        actor
    )
    return product


async def deactivate_product(
    session: AsyncSession, product_id: uuid.UUID, *, actor: str
) -> Product:
    """Stop selling a product and all its variants; nothing is deleted (orders refer to it)."""
    return await _set_active(session, product_id, False, actor)


async def activate_product(
    session: AsyncSession, product_id: uuid.UUID, *, actor: str
) -> Product:
    """Sell a deactivated product again, with all its variants."""
    return await _set_active(session, product_id, True, actor)
