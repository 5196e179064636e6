"""The catalog on the wire: products with their variants, in and out of the API."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "ProductIn",
    "ProductOut",
    "ProductPage",
    "ProductPatch",
    "SkuOut",
    "VariantIn",
    "VariantOut",
    "VariantPatch",
]


class VariantIn(msgspec.Struct, kw_only=True):
    """A sellable SKU of a new product. ``price`` is in minor units (1999 = 19.99 EUR)."""

    sku: str
    price: int
    barcode: str | None = None
    name: str | None = None
    options: dict[str, str] = {}
    currency: str = "EUR"
    weight_g: int | None = None


class ProductIn(msgspec.Struct, kw_only=True):
    name: str
    variants: list[VariantIn]
    description: str = ""
    brand: str = ""
    category: str = ""


class VariantPatch(msgspec.Struct, kw_only=True):
    """Changes to the variant with this SKU, or a new variant when the SKU is new."""

    sku: str
    price: int | UnsetType = UNSET
    barcode: str | UnsetType | None = UNSET
    name: str | UnsetType = UNSET
    options: dict[str, str] | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    weight_g: int | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class ProductPatch(msgspec.Struct, kw_only=True):
    name: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    brand: str | UnsetType = UNSET
    category: str | UnsetType = UNSET
    variants: list[VariantPatch] | UnsetType = UNSET


class VariantOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    sku: str
    barcode: str | None
    name: str
    options: dict[str, str]
    price: int
    currency: str
    weight_g: int
    active: bool


class ProductOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    description: str
    brand: str
    category: str
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    variants: list[VariantOut]


class ProductPage(msgspec.Struct, kw_only=True):
    items: list[ProductOut]
    next_cursor: str | None


class SkuOut(msgspec.Struct, kw_only=True):
    """One variant looked up by SKU, with the product it belongs to."""

    id: uuid.UUID
    sku: str
    barcode: str | None
    name: str
    options: dict[str, str]
    price: int
    currency: str
    weight_g: int
    active: bool
    product_id: uuid.UUID
    product_name: str
    product_active: bool
