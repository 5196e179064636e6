"""The catalog on the wire: products with their variants, in and out of the API."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from msgspec import UNSET, UnsetType

from comptoir.request_body import LongText, Text

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


class VariantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A sellable SKU of a new product. ``price`` is in minor units (1999 = 19.99 EUR)."""

    sku: Text
    price: int
    barcode: Text | None = None
    name: Text | None = None
    options: dict[Text, Text] = {}
    currency: Text = "EUR"
    weight_g: int | None = None
    # Which VAT rate of the delivery country applies: standard, reduced, super_reduced, zero.
    tax_class: Text = "standard"


class ProductIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Text
    variants: list[VariantIn]
    description: LongText = ""
    brand: Text = ""
    category: Text = ""


class VariantPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to the variant with this SKU, or a new variant when the SKU is new."""

    sku: Text
    price: int | UnsetType = UNSET
    barcode: Text | UnsetType | None = UNSET
    name: Text | UnsetType = UNSET
    options: dict[Text, Text] | UnsetType = UNSET
    currency: Text | UnsetType = UNSET
    weight_g: int | UnsetType = UNSET
    tax_class: Text | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class ProductPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Text | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    brand: Text | UnsetType = UNSET
    category: Text | UnsetType = UNSET
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
    tax_class: str
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
    tax_class: str
    active: bool
    product_id: uuid.UUID
    product_name: str
    product_active: bool
