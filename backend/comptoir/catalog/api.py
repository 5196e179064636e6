"""Catalog endpoints: products with their variants, and looking a SKU up."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import MANAGERS, STAFF, allow
from comptoir.auth.schemas import Principal
from comptoir.catalog import service
from comptoir.catalog.models import Product, Variant
from comptoir.catalog.schemas import (
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    SkuOut,
    VariantOut,
)
from comptoir.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)

__all__ = ["CatalogController", "product_out"]


def _variant_out(v: Variant) -> VariantOut:
    return VariantOut(id=v.id, sku=v.sku, barcode=v.barcode, name=v.name, options=v.options,
                      price=v.price, currency=v.currency, weight_g=v.weight_g,
                      tax_class=v.tax_class, active=v.active)


def product_out(p: Product) -> ProductOut:
    return ProductOut(
        id=p.id, name=p.name, description=p.description, brand=p.brand, category=p.category,
        active=p.active, created_at=p.created_at, updated_at=p.updated_at,
        # By SKU, as the relationship loads them, so a fresh object reads the same as a loaded one.
        variants=[_variant_out(v) for v in sorted(p.variants, key=lambda v: v.sku)],
    )


class CatalogController(Controller):
    path = "/api"
    tags = ["catalog"]

    @get("/products", opt=allow(STAFF), summary="Products, by name; search by name, SKU or barcode")
    async def list_products(
        self,
        db_session: AsyncSession,
        q: str | None = Parameter(default=None, max_length=200,
                                  description="part of a name, SKU or barcode"),
        active: bool | None = None,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> ProductPage:
        after = None
        if cursor:
            name_key, last_id = decode_cursor(cursor, 2)
            after = (name_key, cursor_uuid(last_id))
        products = await service.list_products(db_session, q=q, active=active, after=after,
                                                limit=limit + 1)
        next_cursor = None
        if len(products) > limit:
            products = products[:limit]
            last = products[-1]
            next_cursor = encode_cursor(last.search_name, last.id)
        return ProductPage(items=[product_out(p) for p in products], next_cursor=next_cursor)

    @post("/products", opt=allow(MANAGERS), summary="Create a product with its variants")
    async def create_product(
        self, db_session: AsyncSession, principal: Principal, data: ProductIn
    ) -> ProductOut:
        product = await service.create_product(db_session, data, actor=principal.actor)
        await db_session.commit()
        return product_out(product)

    @get("/products/{product_id:uuid}", opt=allow(STAFF), summary="One product")
    async def get_product(self, db_session: AsyncSession, product_id: uuid.UUID) -> ProductOut:
        return product_out(await service.get_product(db_session, product_id))

    @patch("/products/{product_id:uuid}", opt=allow(MANAGERS),
           summary="Change a product; update its variants by SKU and add new ones")
    async def update_product(
        self, db_session: AsyncSession, principal: Principal, product_id: uuid.UUID,
        data: ProductPatch,
    ) -> ProductOut:
        product = await service.update_product(db_session, product_id, data,
                                               actor=principal.actor)
        await db_session.commit()
        return product_out(product)

    @post("/products/{product_id:uuid}/deactivate", opt=allow(MANAGERS), status_code=200,
          summary="Stop selling a product and its variants (nothing is deleted)")
    async def deactivate_product(
        self, db_session: AsyncSession, principal: Principal, product_id: uuid.UUID
    ) -> ProductOut:
        product = await service.deactivate_product(db_session, product_id, actor=principal.actor)
        await db_session.commit()
        return product_out(product)

    @post("/products/{product_id:uuid}/activate", opt=allow(MANAGERS), status_code=200,
          summary="Sell a deactivated product and its variants again")
    async def activate_product(
        self, db_session: AsyncSession, principal: Principal, product_id: uuid.UUID
    ) -> ProductOut:
        product = await service.activate_product(db_session, product_id, actor=principal.actor)
        await db_session.commit()
        return product_out(product)

    # Channel keys may look a SKU up (a shop or marketplace checks what it is selling) but see
    # nothing else of the catalog or of stock: availability has its own endpoint.
    @get("/skus/{sku:str}", opt=allow(STAFF, "channel"), summary="One variant by SKU")
    async def get_sku(self, db_session: AsyncSession, sku: str) -> SkuOut:
        variant, product = await service.get_variant(db_session, sku)
        return SkuOut(
            id=variant.id, sku=variant.sku, barcode=variant.barcode, name=variant.name,
            options=variant.options, price=variant.price, currency=variant.currency,
            weight_g=variant.weight_g, tax_class=variant.tax_class, active=variant.active,
            product_id=product.id,
            product_name=product.name, product_active=product.active,
        )

