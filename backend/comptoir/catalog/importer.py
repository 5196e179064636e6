"""``comptoir import-catalog FILE.csv``: create or update products and SKUs from a spreadsheet.

The file's format is described in :mod:`comptoir.catalog.import_file`, which reads it; this
module writes the valid rows, one transaction per product, and is the command's handler.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.catalog import import_file, service
from comptoir.catalog.import_file import (
    CatalogFileError,
    CatalogRow,
    ImportReport,
    Rejection,
    lower_first,
    parse_catalog_csv,
    read_catalog_file,
)
from comptoir.catalog.models import Variant
from comptoir.catalog.schemas import ProductIn, ProductPatch, VariantPatch
from comptoir.errors import DomainError
from comptoir.progress import ProgressBar
from comptoir.settings import Settings

__all__ = ["ProgressBar", "add_arguments", "import_catalog", "import_catalog_cmd"]


# --- writing (one transaction per product) ------------------------------------------------------


def _variant_patch(row: CatalogRow, existing: Variant | None) -> VariantPatch:
    v = row.variant
    if existing is None:
        return VariantPatch(sku=v.sku, price=v.price, barcode=v.barcode, options=v.options,
                            currency=v.currency, weight_g=v.weight_g or 0,
                            tax_class=v.tax_class)
    return VariantPatch(
        sku=v.sku,
        price=v.price,
        barcode=v.barcode if v.barcode is not None else msgspec.UNSET,
        options={**existing.options, **v.options},
        currency=v.currency if row.has_currency else msgspec.UNSET,
        weight_g=(v.weight_g or 0) if row.has_weight else msgspec.UNSET,
        tax_class=v.tax_class if row.has_tax_class else msgspec.UNSET,
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
                    _reject_all(report, remaining, lower_first(exc.detail))
                    break
                refused, reason = culprit, lower_first(exc.detail)
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


# --- the command --------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The command's arguments; its help is the file format."""
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.description = import_file.__doc__
    p.add_argument("file", type=Path, help="the CSV file to import")
    p.add_argument("--dry-run", action="store_true",
                   help="check every row and print the report, but write nothing")


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
