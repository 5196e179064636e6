"""The catalog's verbs: products and their variants read, created, changed, deactivated.

SKUs are unique, prices are integer minor units, products deactivate rather than vanish.
What makes one variant valid, with no database, is in ``rules``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

import msgspec
from msgspec import UnsetType
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.catalog.models import Product, Variant
from comptoir.catalog.rules import (
    MAX_PRICE,
    clean_text,
    clean_variant,
    default_variant_name,
    refuse_repeats,
    search_key,
)
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

T = TypeVar("T")



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
                   price=v.price, currency=v.currency, weight_g=v.weight_g or 0,
                   tax_class=v.tax_class, active=True)


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
    name = clean_text("name", data.name, required=True)
    if not data.variants:
        raise InvalidInput("A product needs at least one variant (a SKU with a price).",
                           code="variants_required")
    variants = [clean_variant(v, name) for v in data.variants]
    refuse_repeats(variants)
    await _refuse_foreign_skus(session, [v.sku for v in variants])
    await _refuse_taken_barcodes(session, variants)
    product = Product(
        name=name, search_name=search_key(name),
        description=clean_text("description", data.description),
        brand=clean_text("brand", data.brand), category=clean_text("category", data.category),
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
        tax_class=_or(patch.tax_class, existing.tax_class),
    )


def _as_new(patch: VariantPatch) -> VariantIn:
    if isinstance(patch.price, UnsetType):
        raise InvalidInput(f"{patch.sku} is a new SKU: it needs a price.",
                           code="price_required", sku=patch.sku)
    return VariantIn(
        sku=patch.sku, price=patch.price, barcode=_or(patch.barcode, None),
        name=_or(patch.name, None), options=_or(patch.options, {}),
        currency=_or(patch.currency, "EUR"), weight_g=_or(patch.weight_g, None),
        tax_class=_or(patch.tax_class, "standard"),
    )


async def update_product(
    session: AsyncSession, product_id: uuid.UUID, patch: ProductPatch, *, actor: str
) -> Product:
    """Change product fields; update its variants by SKU and add the SKUs it does not have."""
    product = await get_product(session, product_id)
    name = product.name
    if not isinstance(patch.name, UnsetType):
        name = clean_text("name", patch.name, required=True)
    texts = {
        field: clean_text(field, value)
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
    refuse_repeats(v for v, _ in changes)
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
        variant.tax_class = cleaned.tax_class
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
