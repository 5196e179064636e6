"""Catalog rules: SKUs are unique, prices are integer minor units, products deactivate."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.catalog.models import Variant

__all__ = ["sku_exists", "variants_by_sku"]


async def sku_exists(session: AsyncSession, sku: str) -> bool:
    return bool(await session.scalar(select(exists().where(Variant.sku == sku))))


async def variants_by_sku(session: AsyncSession, skus: Sequence[str]) -> dict[str, Variant]:
    """The variants of the given SKUs that exist, by SKU."""
    if not skus:
        return {}
    result = await session.scalars(select(Variant).where(Variant.sku.in_(list(set(skus)))))
    return {v.sku: v for v in result}
