"""Reading a catalog CSV for ``comptoir import-catalog`` (pure): rows checked, bad ones named.

The file is CSV with a header row, separated by commas or semicolons (a French Excel export
works as is), in UTF-8 (Windows-1252 is accepted too). Columns, in any order:

=============  =====================================================================
product_name   required. Rows with the same product name make one product.
sku            required. A SKU that exists is updated; a new SKU is created.
price          required, in currency units with a decimal point or comma: ``19.99``,
               ``19,99`` or ``20`` (not minor units). At most as many decimals as the
               currency has (2 for EUR).
currency       ISO 4217 code; default ``EUR``.
barcode        EAN/GTIN or any code of letters, digits, ``.`` and ``-``.
size, colour   the variant's options (``color`` is read as ``colour``).
weight_g       whole grams.
tax_class      standard (default), reduced, super_reduced or zero: which VAT rate applies.
brand          the product's brand.
category       the product's category.
=============  =====================================================================

When a SKU exists, an empty optional cell leaves its current value alone, and the product it
belongs to takes the row's product name, brand and category. New SKUs join the product of the
other SKUs of their group, or the one product that already has that name, or a new product.

A row is imported whole or not at all: a row with any problem is rejected and named in the
report (line number and reason), and the other rows are imported. Running the same file
again updates what it created, never duplicates it. The command exits with 0 when every row
was imported, 1 when some were rejected, 2 when the file cannot be read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from comptoir.catalog.rules import clean_variant
from comptoir.catalog.schemas import VariantIn
from comptoir.errors import DomainError

__all__ = [
    "COLUMNS",
    "CatalogFileError",
    "CatalogRow",
    "ImportReport",
    "Rejection",
    "RowRejected",
    "lower_first",
    "parse_catalog_csv",
    "parse_price",
    "read_catalog_file",
]

COLUMNS = ("product_name", "sku", "price", "currency", "barcode", "size", "colour", "weight_g",
           "tax_class", "brand", "category")
REQUIRED = ("product_name", "sku", "price")
ALIASES = {"color": "colour"}
# Currencies whose minor unit is not the cent (ISO 4217); every other code has 2 decimals.
_DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_AMOUNT = re.compile(r"(\d+)(?:[.,](\d+))?")


class CatalogFileError(Exception):
    """The file as a whole cannot be imported (unreadable, or required columns missing)."""


class RowRejected(Exception):
    """One row cannot be imported; the message says why, for the report."""


@dataclass(frozen=True)
class Rejection:
    line: int
    sku: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    products_created: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self, name: str, *, dry_run: bool = False) -> str:
        verb = "Checked (dry run, nothing written)" if dry_run else "Imported"
        lines = [
            f"{verb} {name}: {self.created} SKUs created ({self.products_created} new products), "
            f"{self.updated} updated, {len(self.rejected)} rejected."
        ]
        lines += self.notes
        if self.rejected:
            lines.append("Rejected rows:")
            lines += [
                f"  line {r.line}" + (f" (SKU {r.sku})" if r.sku else "") + f": {r.reason}"
                for r in sorted(self.rejected, key=lambda r: r.line)
            ]
        return "\n".join(lines)


@dataclass(frozen=True)
class CatalogRow:
    """One valid row: a variant and the product fields it carries."""

    line: int
    product_name: str
    variant: VariantIn
    brand: str
    category: str
    # Cells the file left empty, which an update leaves alone.
    has_currency: bool
    has_weight: bool
    has_tax_class: bool = False


# --- reading the file (pure) --------------------------------------------------------------------


def parse_price(text: str, currency: str) -> int:
    """``"19,99"`` EUR → 1999: an amount in currency units, to integer minor units."""
    text = text.strip()
    if text.startswith("-"):
        raise RowRejected(f"price '{text}' is negative")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise RowRejected(
            f"price '{text}' is not an amount like 19.99 (no currency sign or thousands "
            "separator; the currency has its own column)"
        )
    whole, fraction = match.group(1), match.group(2) or ""
    decimals = _DECIMALS.get(currency, 2)
    if len(fraction) > decimals:
        raise RowRejected(f"price '{text}' has more than {decimals} decimals for {currency}")
    return int(whole + fraction.ljust(decimals, "0"))


def _parse_row(line: int, cells: dict[str, str]) -> CatalogRow:
    product_name = cells.get("product_name", "").strip()
    if not product_name:
        raise RowRejected("product_name is empty")
    sku = cells.get("sku", "").strip()
    if not sku:
        raise RowRejected("sku is empty")
    currency = cells.get("currency", "").strip().upper()
    if not cells.get("price", "").strip():
        raise RowRejected("price is empty")
    price = parse_price(cells["price"], currency or "EUR")
    weight_text = cells.get("weight_g", "").strip()
    if weight_text and not weight_text.isdigit():
        raise RowRejected(f"weight_g '{weight_text}' is not a whole number of grams")
    options = {k: cells[k].strip() for k in ("size", "colour") if cells.get(k, "").strip()}
    tax_class = cells.get("tax_class", "").strip()
    variant = VariantIn(
        sku=sku, price=price, barcode=cells.get("barcode") or None, options=options,
        currency=currency or "EUR", weight_g=int(weight_text) if weight_text else None,
        tax_class=tax_class or "standard",
    )
    try:
        variant = clean_variant(variant, product_name)
        if len(product_name) > 200:
            raise RowRejected("product_name is longer than 200 characters")
    except DomainError as exc:
        raise RowRejected(lower_first(exc.detail.removeprefix(f"{sku}: "))) from None
    brand, category = cells.get("brand", "").strip(), cells.get("category", "").strip()
    for column, value in (("brand", brand), ("category", category)):
        if len(value) > 120:
            raise RowRejected(f"{column} is longer than 120 characters")
    return CatalogRow(
        line=line, product_name=product_name, variant=variant, brand=brand, category=category,
        has_currency=bool(currency), has_weight=bool(weight_text),
        has_tax_class=bool(tax_class),
    )


def lower_first(text: str) -> str:
    """A refusal's sentence as a report clause: "A price…" → "a price…", "SKU…" kept."""
    text = text.rstrip(".")
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]


def _header(row: Sequence[str]) -> list[str]:
    names = [cell.strip().lstrip("\ufeff").lower().replace(" ", "_") for cell in row]
    return [ALIASES.get(n, n) for n in names]


def parse_catalog_csv(
    text: str, report: ImportReport | None = None
) -> tuple[list[CatalogRow], ImportReport]:
    """The valid rows of a catalog CSV, and a report naming the rows rejected while reading.

    Rejected here: malformed cells, and a SKU or barcode already given on an earlier line.
    """
    report = report or ImportReport()
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = _header(next(reader, []))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CatalogFileError(
            f"the header row lacks the column(s) {', '.join(missing)}; expected columns: "
            f"{', '.join(COLUMNS)}"
        )
    unknown = [c for c in header if c and c not in COLUMNS]
    if unknown:
        report.notes.append(f"Ignored column(s): {', '.join(unknown)}.")
    rows: list[CatalogRow] = []
    sku_lines: dict[str, int] = {}
    barcode_lines: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, often at the end of a spreadsheet export
        report.rows += 1
        sku = cells[header.index("sku")].strip() if len(cells) > header.index("sku") else ""
        try:
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                raise RowRejected(f"has {len(cells)} cells but the header has {len(header)}")
            row = _parse_row(line, dict(zip(header, cells, strict=False)))
            if row.variant.sku in sku_lines:
                raise RowRejected(f"SKU already given on line {sku_lines[row.variant.sku]}")
            barcode = row.variant.barcode
            if barcode is not None and barcode in barcode_lines:
                raise RowRejected(f"barcode {barcode} already given on line "
                                  f"{barcode_lines[barcode]}")
        except RowRejected as exc:
            report.rejected.append(Rejection(line=line, sku=sku, reason=str(exc)))
            continue
        sku_lines[row.variant.sku] = line
        if row.variant.barcode is not None:
            barcode_lines[row.variant.barcode] = line
        rows.append(row)
    return rows, report


def read_catalog_file(path: Path, report: ImportReport) -> str:
    """The file's text: UTF-8 (with or without BOM), or Windows-1252 as Excel often writes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.notes.append("The file is not UTF-8: read as Windows-1252.")
        return data.decode("cp1252", errors="replace")
