"""An INSERT that stands aside on a unique conflict, as a ready text (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, bindparam, text
from sqlalchemy.sql.selectable import TextualSelect

__all__ = ["insert_unless_exists"]


def insert_unless_exists(
    table: Table, conflict: Sequence[str], returning: str
) -> TextualSelect:
    """``INSERT … ON CONFLICT (conflict) DO NOTHING RETURNING returning``, built once.

    The same text runs on PostgreSQL and SQLite. SQLAlchemy does not cache the compiled form
    of its ``on_conflict_do_nothing()`` constructs, and compiling a 30-column insert on every
    capture costs milliseconds of CPU; a prepared text statement costs nothing. Every column
    must be given, with the column's own type (UUIDs, JSON and times are converted as usual).
    """
    def quoted(names: Sequence[str]) -> str:
        return ", ".join(f'"{name}"' for name in names)

    names = [column.name for column in table.columns]
    sql = (
        f"INSERT INTO {table.name} ({quoted(names)}) "
        f"VALUES ({', '.join(':' + name for name in names)}) "
        f"ON CONFLICT ({quoted(conflict)}) DO NOTHING RETURNING {quoted([returning])}"
    )
    return (
        text(sql)
        .bindparams(*(bindparam(column.name, type_=column.type) for column in table.columns))
        .columns(table.columns[returning])
    )
