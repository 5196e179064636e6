"""The accounting export of a period: every invoice and credit note issued from one day to
another (the seller's days, both included), read from what each document states and laid
out by ``accounting`` as FEC, CSV or JSON. The command line (``comptoir export-accounting``)
and ``GET /api/exports/accounting`` both call ``export``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import anyio
import msgspec
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.config import service as config
from comptoir.errors import InvalidInput
from comptoir.invoicing.accounting import Accounts, ExportFormat, to_csv, to_fec, to_json
from comptoir.invoicing.models import CreditNote, Invoice
from comptoir.invoicing.service import SELLER_TIME
from comptoir.invoicing.snapshot import Statement
from comptoir.progress import ProgressBar
from comptoir.settings import Settings

__all__ = ["MAX_DAYS", "Export", "add_arguments", "export", "export_accounting_cmd", "period"]

MAX_DAYS = 3660  # ten years: what the law asks a retailer to keep
BATCH = 500  # documents read at a time (the progress bar moves by this much)


@dataclass(frozen=True, slots=True)
class Export:
    body: bytes
    media_type: str
    filename: str
    documents: int


def period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The period asked, checked: both days given, the first not after the last, and at
    most ``MAX_DAYS`` long (422 otherwise, nothing read)."""
    if start is None or end is None:
        raise InvalidInput("Give the period's first and last days (from, to: YYYY-MM-DD).",
                           code="period_required")
    if start > end:
        raise InvalidInput(f"The period starts ({start}) after it ends ({end}).",
                           code="invalid_date_range")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"A period is at most {MAX_DAYS} days.", code="period_too_long")
    return start, end


def export_format(value: str) -> ExportFormat:
    try:
        return ExportFormat(value.strip().lower())
    except ValueError:
        known = ", ".join(f.value for f in ExportFormat)
        raise InvalidInput(f"Unknown export format {value!r}: one of {known}.",
                           code="unknown_export_format") from None


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of the seller's first day's start and the day after the last."""
    first = dt.datetime.combine(start, dt.time(), SELLER_TIME)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), SELLER_TIME)
    return first.astimezone(dt.UTC), after.astimezone(dt.UTC)


async def statements(session: AsyncSession, start: dt.date, end: dt.date, *,
                     progress: ProgressBar | None = None) -> list[Statement]:
    """What every document of the period states, by issue time then number."""
    low, high = _bounds(start, end)
    rows: list[Row[tuple[dt.datetime, str, dict[str, object]]]] = []
    for model in (Invoice, CreditNote):
        rows.extend((await session.execute(
            select(model.issued_at, model.number, model.statement)
            .where(model.issued_at >= low, model.issued_at < high))).all())
    rows.sort(key=lambda row: (row[0], row[1]))
    if progress is not None:
        progress.start(len(rows))
    found = []
    for index, (_issued_at, _number, stated) in enumerate(rows, start=1):
        found.append(msgspec.convert(stated, Statement))
        if progress is not None and (index % BATCH == 0 or index == len(rows)):
            progress.advance(BATCH if index % BATCH == 0 else index % BATCH)
    if progress is not None:
        progress.finish()
    return found


async def _accounts() -> Accounts:
    company = await config.company()
    rates = await config.accounting_accounts()
    return Accounts(
        customers=company.customers_account if company is not None else "411000",
        sales={row.vat_rate_bp: row.sales_account for row in rates if row.sales_account},
        vat={row.vat_rate_bp: row.vat_account for row in rates if row.vat_account},
    )


async def export(session: AsyncSession, start: dt.date, end: dt.date, fmt: ExportFormat, *,
                 progress: ProgressBar | None = None) -> Export:
    """The period's documents in ``fmt``."""
    start, end = period(start, end)
    documents = await statements(session, start, end, progress=progress)
    stem = f"ecritures-{start:%Y%m%d}-{end:%Y%m%d}"
    if fmt is ExportFormat.FEC:
        company = await config.company()
        siren = company.siren if company is not None and company.siren else "000000000"
        # The FEC's own file name: SIREN, "FEC", the closing day of the period.
        return Export(to_fec(documents, await _accounts()), "text/plain; charset=iso-8859-15",
                      f"{siren}FEC{end:%Y%m%d}.txt", len(documents))
    if fmt is ExportFormat.CSV:
        return Export(to_csv(documents).encode(), "text/csv; charset=utf-8", f"{stem}.csv",
                      len(documents))
    return Export(to_json(documents), "application/json", f"{stem}.json", len(documents))


# --- the command line -----------------------------------------------------------------------


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: a day as YYYY-MM-DD") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="start", type=_day, required=True, help="first day, included")
    p.add_argument("--to", dest="end", type=_day, required=True, help="last day, included")
    p.add_argument("--format", default="fec", help="fec (default), csv or json")
    p.add_argument("--output", help="file to write (default: the export's own name, here)")


async def export_accounting_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from comptoir.config.engine import bind_piccolo, make_piccolo_engine
    from comptoir.db.dialect import dialect_for
    from comptoir.db.engine import create_engine, make_sessionmaker

    fmt = export_format(args.format)
    start, end = period(args.start, args.end)
    piccolo = make_piccolo_engine(settings)
    bind_piccolo(piccolo)
    dialect = dialect_for(settings)
    await dialect.open_piccolo(piccolo)
    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            result = await export(session, start, end, fmt,
                                  progress=ProgressBar(sys.stderr, "exporting", unit="documents"))
    finally:
        await engine.dispose()
        await dialect.close_piccolo(piccolo)
    target = Path(args.output or result.filename)
    await anyio.Path(target).write_bytes(result.body)
    print(f"{result.documents} documents from {start} to {end} written to {target} "
          f"({fmt.value})")
    return 0
