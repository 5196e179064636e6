"""``comptoir import-catalog FILE.csv``: create or update products and SKUs from a spreadsheet.

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

import argparse
import csv
import io
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.catalog import service
from comptoir.catalog.models import Variant
from comptoir.catalog.schemas import ProductIn, ProductPatch, VariantIn, VariantPatch
from comptoir.cli import command
from comptoir.errors import DomainError
from comptoir.settings import Settings

__all__ = [
    "COLUMNS",
    "CatalogFileError",
    "ImportReport",
    "ProgressBar",
    "Rejection",
    "import_catalog",
    "import_catalog_cmd",
    "parse_catalog_csv",
    "parse_price",
]

COLUMNS = ("product_name", "sku", "price", "currency", "barcode", "size", "colour", "weight_g",
           "brand", "category")
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
    variant = VariantIn(
        sku=sku, price=price, barcode=cells.get("barcode") or None, options=options,
        currency=currency or "EUR", weight_g=int(weight_text) if weight_text else None,
    )
    try:
        variant = service.clean_variant(variant, product_name)
        if len(product_name) > 200:
            raise RowRejected("product_name is longer than 200 characters")
    except DomainError as exc:
        raise RowRejected(_lower_first(exc.detail.removeprefix(f"{sku}: "))) from None
    brand, category = cells.get("brand", "").strip(), cells.get("category", "").strip()
    for column, value in (("brand", brand), ("category", category)):
        if len(value) > 120:
            raise RowRejected(f"{column} is longer than 120 characters")
    return CatalogRow(
        line=line, product_name=product_name, variant=variant, brand=brand, category=category,
        has_currency=bool(currency), has_weight=bool(weight_text),
    )


def _lower_first(text: str) -> str:
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


# --- writing (one transaction per product) ------------------------------------------------------


def _variant_patch(row: CatalogRow, existing: Variant | None) -> VariantPatch:
    v = row.variant
    if existing is None:
        return VariantPatch(sku=v.sku, price=v.price, barcode=v.barcode, options=v.options,
                            currency=v.currency, weight_g=v.weight_g or 0)
    return VariantPatch(
        sku=v.sku,
        price=v.price,
        barcode=v.barcode if v.barcode is not None else msgspec.UNSET,
        options={**existing.options, **v.options},
        currency=v.currency if row.has_currency else msgspec.UNSET,
        weight_g=(v.weight_g or 0) if row.has_weight else msgspec.UNSET,
    )


class RowRefused(Exception):
    """The database refused one row of a group: the group is retried without it."""

    def __init__(self, row: CatalogRow, reason: str) -> None:
        super().__init__(reason)
        self.row = row
        self.reason = reason


async def _barcode_holders(session: AsyncSession, rows: Sequence[CatalogRow]) -> dict[str, str]:
    barcodes = [r.variant.barcode for r in rows if r.variant.barcode is not None]
    if not barcodes:
        return {}
    result = await session.execute(
        select(Variant.barcode, Variant.sku).where(Variant.barcode.in_(barcodes))
    )
    return {barcode: sku for barcode, sku in result}


async def _import_group(
    session: AsyncSession, rows: list[CatalogRow], actor: str
) -> tuple[int, int, int]:
    """Write one product's rows; (created, updated, products created). Raises on a refusal."""
    existing = await service.variants_by_sku(session, [r.variant.sku for r in rows])
    holders = await _barcode_holders(session, rows)
    for row in rows:
        holder = holders.get(row.variant.barcode or "")
        if holder is not None and holder != row.variant.sku:
            raise RowRefused(row, f"barcode {row.variant.barcode} already belongs to SKU {holder}")
    name = rows[0].product_name
    brand = next((r.brand for r in rows if r.brand), None)
    category = next((r.category for r in rows if r.category), None)
    by_product: dict[uuid.UUID, list[VariantPatch]] = {}
    for row in rows:
        variant = existing.get(row.variant.sku)
        if variant is not None:
            by_product.setdefault(variant.product_id, []).append(_variant_patch(row, variant))
    new_rows = [r for r in rows if r.variant.sku not in existing]
    target = next(iter(by_product), None)
    if target is None and new_rows:
        found = await service.find_product_by_name(session, name)
        target = found.id if found is not None else None
    if target is not None:
        by_product.setdefault(target, []).extend(_variant_patch(r, None) for r in new_rows)
    for product_id, patches in by_product.items():
        patch = ProductPatch(
            name=name,
            brand=brand if brand is not None else msgspec.UNSET,
            category=category if category is not None else msgspec.UNSET,
            variants=patches,
        )
        await service.update_product(session, product_id, patch, actor=actor)
    if target is None and new_rows:
        await service.create_product(
            session,
            ProductIn(name=name, brand=brand or "", category=category or "",
                      variants=[r.variant for r in new_rows]),
            actor=actor,
        )
        return len(new_rows), len(rows) - len(new_rows), 1
    return len(new_rows), len(rows) - len(new_rows), 0


def _row_of(exc: DomainError, rows: list[CatalogRow]) -> CatalogRow | None:
    sku = exc.extra.get("sku")
    barcode = exc.extra.get("barcode")
    for row in rows:
        if row.variant.sku == sku or (barcode is not None and row.variant.barcode == barcode):
            return row
    return None


def _reject_all(report: ImportReport, rows: list[CatalogRow], reason: str) -> None:
    report.rejected += [Rejection(r.line, r.variant.sku, reason) for r in rows]


async def import_catalog(
    sessionmaker: async_sessionmaker[AsyncSession],
    text: str,
    *,
    actor: str,
    dry_run: bool = False,
    progress: ProgressBar | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Import a catalog CSV's text: each product in its own transaction, bad rows left out."""
    rows, report = parse_catalog_csv(text, report)
    if progress is not None:
        progress.start(report.rows)
        progress.advance(len(report.rejected))
    groups: dict[str, list[CatalogRow]] = {}
    for row in rows:
        groups.setdefault(service.search_key(row.product_name), []).append(row)
    for group in groups.values():
        remaining = list(group)
        while remaining:
            try:
                async with sessionmaker() as session:
                    created, updated, products = await _import_group(session, remaining, actor)
                    await (session.rollback() if dry_run else session.commit())
            except RowRefused as exc:
                refused, reason = exc.row, exc.reason
            except DomainError as exc:
                culprit = _row_of(exc, remaining)
                if culprit is None:  # a refusal of the product as a whole: every row of it
                    _reject_all(report, remaining, _lower_first(exc.detail))
                    break
                refused, reason = culprit, _lower_first(exc.detail)
            except IntegrityError:  # another writer took a SKU or barcode meanwhile
                _reject_all(report, remaining, "conflicts with a change made at the same time; "
                            "import again")
                break
            else:
                report.created += created
                report.updated += updated
                report.products_created += products
                break
            report.rejected.append(Rejection(refused.line, refused.variant.sku, reason))
            remaining.remove(refused)
        if progress is not None:
            progress.advance(len(group))
    if progress is not None:
        progress.finish()
    return report


# --- progress bar -------------------------------------------------------------------------------


class ProgressBar:
    """A one-line bar on a terminal (stderr); silent when the output is not a terminal."""

    def __init__(self, stream: TextIO, label: str = "importing", width: int = 30,
                 enabled: bool | None = None) -> None:
        self.stream = stream
        self.label = label
        self.width = width
        self.enabled = stream.isatty() if enabled is None else enabled
        self.total = 0
        self.done = 0
        self._drawn = ""

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        self._draw()

    def advance(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        self._draw()

    def finish(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()

    def render(self) -> str:
        fraction = self.done / self.total if self.total else 1.0
        filled = round(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        return f"{self.label} [{bar}] {fraction:4.0%} {self.done}/{self.total} rows"

    def _draw(self) -> None:
        line = self.render()
        if self.enabled and line != self._drawn:
            self.stream.write("\r" + line)
            self.stream.flush()
            self._drawn = line


# --- the command --------------------------------------------------------------------------------


def _args(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.description = __doc__
    p.add_argument("file", type=Path, help="the CSV file to import")
    p.add_argument("--dry-run", action="store_true",
                   help="check every row and print the report, but write nothing")


@command("import-catalog", "Create or update products and SKUs from a CSV file.", _args)
async def import_catalog_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from comptoir.db.engine import create_engine, make_sessionmaker

    report = ImportReport()
    try:
        text = read_catalog_file(args.file, report)
        engine = create_engine(settings)
        try:
            report = await import_catalog(
                make_sessionmaker(engine), text, actor=f"import:{args.file.name}",
                dry_run=args.dry_run, progress=ProgressBar(sys.stderr), report=report,
            )
        finally:
            await engine.dispose()
    except CatalogFileError as exc:
        print(f"comptoir import-catalog: {exc}", file=sys.stderr)
        return 2
    print(report.summary(args.file.name, dry_run=args.dry_run))
    return 1 if report.rejected else 0
