"""Catalog rules with no database: what a valid SKU, price, barcode and name are."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from comptoir.catalog.schemas import VariantIn
from comptoir.config.models import TaxClass
from comptoir.errors import Conflict, InvalidInput

__all__ = [
    "MAX_PRICE",
    "TAX_CLASSES",
    "clean_text",
    "clean_variant",
    "default_variant_name",
    "refuse_repeats",
    "search_key",
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
# A SKU's VAT class: each country rates each class (config TaxRate, in the admin).
TAX_CLASSES = tuple(tax_class.value for tax_class in TaxClass)
_TEXT_LIMITS = {"name": 200, "brand": 120, "category": 120, "description": 20_000}


def search_key(text: str) -> str:
    """Lower-case, accent-free text, so "ecru" finds "Écru" and "T-SHIRT" finds "t-shirt"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return folded.strip()[:200]


def clean_text(field: str, value: str, *, required: bool = False) -> str:
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
    tax_class = variant.tax_class.strip().lower()
    if tax_class not in TAX_CLASSES:
        raise InvalidInput(
            f"{sku}: tax class '{variant.tax_class}' is not one of {', '.join(TAX_CLASSES)}.",
            code="unknown_tax_class", sku=sku, tax_class=variant.tax_class)
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
                     currency=currency, weight_g=weight, tax_class=tax_class)


def refuse_repeats(variants: Iterable[VariantIn]) -> None:
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
