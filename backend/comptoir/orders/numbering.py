"""Order numbers: ``CMP-<year>-<at least 6 digits>``, sequential per year, never duplicated.

PostgreSQL: one SEQUENCE per year (``order_number_2026``). ``nextval`` takes no lock that
lasts until commit, so concurrent captures never wait for each other here; a rolled-back
capture leaves a gap, never a duplicate, across any number of processes. The year's
sequence is created once, outside the capture transaction, and remembered by the process.

SQLite: a counter row per year, incremented inside the capture transaction. SQLite
already serialises writers, so this costs no concurrency, and a rollback gives the number
back (no gaps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.db.dialect import dialect_of
from comptoir.orders.models import OrderNumberCounter

__all__ = ["NumberFormat", "format_number", "next_number", "next_serial", "number_format",
           "number_sql", "parse_number", "prepare_year", "serial_sql"]

PREFIX = "CMP"
DIGITS = 6
_PATTERN = re.compile(rf"^{PREFIX}-(\d{{4}})-(\d{{6,}})$")
# Any two-level key for the advisory lock that serialises sequence creation between processes.
_SEQUENCE_LOCK = 0x636D706E  # "cmpn"

_ready_years: set[int] = set()

# Text, not an on_conflict_do_update() construct: SQLAlchemy would compile that every time.
_NEXT_ON_COUNTER = text(
    f'INSERT INTO {OrderNumberCounter.__tablename__} ("year", "last") VALUES (:year, 1) '
    'ON CONFLICT ("year") DO UPDATE SET "last" = order_number_counters."last" + 1 '
    'RETURNING "last"'
)


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """How a year's numbers are written: ``prefix`` then the serial, zero-padded to ``digits``.

    The one rule of the format: ``format_number`` applies it in Python, and the PostgreSQL
    capture statement receives it as parameters (``number_sql``) to apply to the serial the
    sequence gives."""

    year: int
    prefix: str
    digits: int

    def number(self, serial: int) -> str:
        if serial < 1:
            raise ValueError("order serials start at 1")
        return f"{self.prefix}{serial:0{self.digits}d}"


def number_format(year: int) -> NumberFormat:
    return NumberFormat(year, f"{PREFIX}-{year:04d}-", DIGITS)


def format_number(year: int, serial: int) -> str:
    """``CMP-2026-000123``; serials past 999999 simply grow a digit."""
    return number_format(year).number(serial)


def parse_number(number: str) -> tuple[int, int] | None:
    """``(year, serial)`` of a well-formed order number, else None."""
    match = _PATTERN.match(number)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _sequence_name(year: int) -> str:
    return f"order_number_{int(year):04d}"


async def prepare_year(engine: AsyncEngine, year: int) -> None:
    """Make sure ``year``'s sequence exists (PostgreSQL), in its own short transaction."""
    if year in _ready_years:
        return
    await dialect_of(engine).create_sequence(engine, _sequence_name(year), _SEQUENCE_LOCK)
    _ready_years.add(year)


def forget_prepared_years() -> None:
    """For tests that drop sequences: the next capture creates them again."""
    _ready_years.clear()


def serial_sql(year: int) -> str:
    """PostgreSQL: the expression that draws the next serial of ``year`` from its sequence.

    Volatile: in a statement's select list it draws one serial per row, so one statement can
    number several orders (orders/capture_pg.py)."""
    return f"nextval('{_sequence_name(year)}')"


def number_sql(serial: str, prefix: str, digits: str) -> str:
    """PostgreSQL: ``NumberFormat.number`` of the SQL integer ``serial`` (a column: it is
    read twice), the format's ``prefix`` and ``digits`` given as SQL expressions."""
    return (f"({prefix} || lpad(CAST({serial} AS text), "
            f"greatest({digits}, length(CAST({serial} AS text))), '0'))")


async def next_serial(session: AsyncSession, year: int) -> int:
    """The next order serial of ``year``, in the session's transaction (one statement)."""
    return await dialect_of(session).next_serial(
        session, _sequence_name(year), _NEXT_ON_COUNTER, {"year": year})


async def next_number(session: AsyncSession, year: int) -> str:
    """The next order number of ``year``, in the session's transaction (one statement)."""
    return format_number(year, await next_serial(session, year))
