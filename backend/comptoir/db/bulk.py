"""Many rows into one table in one statement, whatever their number.

On PostgreSQL the rows go as one array per column (``INSERT … SELECT * FROM unnest(…)``): a
statement of fixed text, prepared once, with as many parameters as the table has columns —
never one parameter per value (PostgreSQL refuses more than 32,767), and one round trip
instead of one execution per row. On SQLite, in the process, one statement executed for each
row costs no round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.db.dialect import Row, dialect_of

__all__ = ["insert_rows"]

async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Row],
                      *, skip_conflicts: bool = False) -> None:
    """Insert ``rows`` (each with the same keys: the columns it fills) in the session's
    transaction; ``skip_conflicts``: a row a unique index already holds is left out."""
    if not rows:
        return
    await dialect_of(session).insert_rows(session, table, rows, skip_conflicts=skip_conflicts)
