"""Reading stock: what can be promised per SKU and location, levels, movements, stock-outs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, select, text
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.catalog import service as catalog
from comptoir.catalog.models import Variant
from comptoir.db.dialect import dialect_of
from comptoir.errors import NotFound
from comptoir.inventory.models import InventoryLevel, InventoryMovement, available_units

__all__ = [
    "VARIANTS_WITH_STOCK_TEXT",
    "SellableVariant",
    "StockRow",
    "VariantsAndStock",
    "availability",
    "list_levels",
    "list_movements",
    "list_stock_outs",
    "variants_and_stock",
    "variants_with_availability",
]


async def availability(
    session: AsyncSession, skus: Sequence[str]
) -> dict[str, dict[str, int]]:
    """``{sku: {location: available}}`` for the given SKUs (levels with stock only)."""
    rows = await session.execute(
        select(
            InventoryLevel.sku,
            InventoryLevel.location,
            InventoryLevel.on_hand,
            InventoryLevel.reserved,
            InventoryLevel.safety_stock,
        ).where(InventoryLevel.sku.in_(list(skus)))
    )
    out: dict[str, dict[str, int]] = {sku: {} for sku in skus}
    for sku, location, on_hand, reserved, safety_stock in rows:
        out[sku][location] = available_units(on_hand, reserved, safety_stock)
    return out


@dataclass(frozen=True, slots=True)
class SellableVariant:
    """What selling a variant needs to know of it (read without loading the ORM entity)."""

    sku: str
    name: str
    price: int
    currency: str
    active: bool
    tax_class: str = "standard"  # catalog Variant.tax_class: which VAT rate applies


# What a capture knows of the SKUs it sells: each variant, and {sku: {location: available}}.
VariantsAndStock = tuple[dict[str, SellableVariant], dict[str, dict[str, int]]]
# sku, name, price, currency, active, tax class, then the level: location, on_hand, reserved,
# safety_stock (all None: the SKU has no level anywhere).
StockRow = tuple[str, str, int, str, bool, str, str | None, int | None, int | None, int | None]

_VARIANTS_WITH_STOCK = (
    select(Variant.sku, Variant.name, Variant.price, Variant.currency, Variant.active,
           Variant.tax_class, InventoryLevel.location, InventoryLevel.on_hand,
           InventoryLevel.reserved, InventoryLevel.safety_stock)
    .outerjoin(InventoryLevel, InventoryLevel.sku == Variant.sku)
)


VARIANTS_WITH_STOCK_TEXT = text(
    "SELECT v.sku, v.name, v.price, v.currency, v.active, v.tax_class, l.location, "
    "l.on_hand, l.reserved, l.safety_stock "
    "FROM variants v LEFT JOIN inventory_levels l ON l.sku = v.sku "
    "WHERE v.sku = ANY(CAST(:skus AS varchar[]))")


async def variants_with_availability(
    session: AsyncSession, skus: Sequence[str]
) -> VariantsAndStock:
    """The variants of ``skus`` that exist, and ``{sku: {location: available}}``, in one query.

    Order capture reads both for every order; one round trip instead of two, and plain rows
    rather than ORM entities (this runs at every capture).
    """
    wanted = sorted(set(skus))
    rows: Result[StockRow]
    if dialect_of(session).binds_arrays:
        # A ready text: one statement whatever the number of SKUs, prepared once per
        # connection, with nothing for SQLAlchemy to compile or key at each capture.
        rows = await (await session.connection()).execute(VARIANTS_WITH_STOCK_TEXT,
                                                          {"skus": wanted})
    else:
        rows = await session.execute(_VARIANTS_WITH_STOCK.where(Variant.sku.in_(wanted)))
    return variants_and_stock(rows.tuples())


def variants_and_stock(rows: Iterable[StockRow]) -> VariantsAndStock:
    """The variants asked for, and their availability per location, of ``rows``."""
    variants: dict[str, SellableVariant] = {}
    stock: dict[str, dict[str, int]] = {}
    for (sku, name, price, currency, active, tax_class, location, on_hand, reserved,
         safety_stock) in rows:
        if sku not in variants:
            variants[sku] = SellableVariant(sku, name, price, currency, active, tax_class)
        levels = stock.setdefault(sku, {})
        if location is not None:
            levels[location] = available_units(on_hand or 0, reserved or 0, safety_stock or 0)
    return variants, stock


async def list_levels(
    session: AsyncSession,
    *,
    sku: str | None = None,
    location: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 100,
) -> list[InventoryLevel]:
    """Levels ordered by (sku, location), keyset-paginated from ``after``."""
    query = select(InventoryLevel)
    if sku is not None:
        query = query.where(InventoryLevel.sku == sku)
    return await _levels_page(session, query, location, after, limit)


async def _levels_page(
    session: AsyncSession, query: Select[tuple[InventoryLevel]], location: str | None,
    after: tuple[str, str] | None, limit: int,
) -> list[InventoryLevel]:
    """``query``'s levels at ``location`` (or everywhere), by (sku, location), after ``after``."""
    if location is not None:
        query = query.where(InventoryLevel.location == location)
    if after is not None:
        query = query.where(
            (InventoryLevel.sku > after[0])
            | and_(InventoryLevel.sku == after[0], InventoryLevel.location > after[1])
        )
    result = await session.scalars(
        query.order_by(InventoryLevel.sku, InventoryLevel.location).limit(limit)
    )
    return list(result)


async def list_movements(
    session: AsyncSession,
    sku: str,
    *,
    location: str | None = None,
    before: uuid.UUID | None = None,
    limit: int = 100,
) -> list[InventoryMovement]:
    """A SKU's movements, newest first, keyset-paginated by id (ids are time-ordered)."""
    if not await catalog.sku_exists(session, sku):
        raise NotFound(f"Unknown SKU '{sku}'.", code="unknown_sku")
    query = select(InventoryMovement).where(InventoryMovement.sku == sku)
    if location is not None:
        query = query.where(InventoryMovement.location == location)
    if before is not None:
        query = query.where(InventoryMovement.id < before)
    result = await session.scalars(query.order_by(InventoryMovement.id.desc()).limit(limit))
    return list(result)


async def list_stock_outs(
    session: AsyncSession,
    *,
    location: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 100,
) -> list[InventoryLevel]:
    """Levels with nothing left to promise: on hand, less what is reserved, is at or below the
    safety stock (``available`` is 0). Ordered by (sku, location), keyset-paginated."""
    query = select(InventoryLevel).where(InventoryLevel.available <= 0)
    return await _levels_page(session, query, location, after, limit)
