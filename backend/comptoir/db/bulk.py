"""Many rows into one table in one statement, whatever their number.

On PostgreSQL the rows go as one array per column (``INSERT … SELECT * FROM unnest(…)``): a
statement of fixed text, prepared once, with as many parameters as the table has columns —
never one parameter per value (PostgreSQL refuses more than 32,767), and one round trip
instead of one execution per row. On SQLite, in the process, one statement executed for each
row costs no round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from comptoir.db.engine import is_postgres

__all__ = ["insert_rows"]

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=64)
def _unnest(table: Table, columns: tuple[str, ...], skip_conflicts: bool) -> TextClause:
    arrays = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=_PG)}[])" for name in columns)
    names = ", ".join(f'"{name}"' for name in columns)
    return text(f'INSERT INTO "{table.name}" ({names}) SELECT * FROM unnest({arrays})'
                + (" ON CONFLICT DO NOTHING" if skip_conflicts else ""))


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]],
                      *, skip_conflicts: bool = False) -> None:
    """Insert ``rows`` (each with the same keys: the columns it fills) in the session's
    transaction; ``skip_conflicts``: a row a unique index already holds is left out."""
    if not rows:
        return
    columns = tuple(rows[0])
    if is_postgres(session):
        await session.execute(_unnest(table, columns, skip_conflicts),
                              {name: [row[name] for row in rows] for name in columns})
        return
    statement = sqlite_insert(table).on_conflict_do_nothing() if skip_conflicts else insert(table)
    await session.execute(statement, list(rows))
