"""What differs between SQLite and PostgreSQL, in one place: a ``Dialect`` per database.

The rest of the code asks the dialect of its session, connection or engine
(``dialect_of``) or of its settings (``dialect_for``) and calls it; it does not test which
database it runs on. Each difference is said once, here, with the reason it exists:

- PostgreSQL binds a Python list as one array parameter (``binds_arrays``), so a statement
  over any number of rows keeps one fixed, prepared text; SQLite, in the process, loses
  nothing by executing a statement per row.
- PostgreSQL's ``FOR UPDATE SKIP LOCKED`` lets several processes take different rows of one
  queue; SQLite has one writer at a time, whose transaction already holds the only lock.
- PostgreSQL has sequences, which hand out numbers without a lock held until commit; SQLite
  counts in a row of the caller's, inside the (already serialised) transaction.
- Migrators take turns through an advisory lock (PostgreSQL) or a lock file (SQLite).
"""

from __future__ import annotations

import fcntl
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, TypeVar

import anyio
from piccolo.engine.base import BaseTransaction
from piccolo.engine.base import Engine as PiccoloEngineOf
from sqlalchemy import ColumnElement, Select, Table, any_, bindparam, event, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import ARRAY, TypeEngine

from comptoir.db.base import Base
from comptoir.settings import Settings

__all__ = [
    "POSTGRESQL",
    "SQLITE",
    "Bind",
    "Dialect",
    "Row",
    "dialect_for",
    "dialect_of",
]

Bind = AsyncSession | AsyncConnection | AsyncEngine | Session | Connection | Engine
# A row to insert: column name -> value (whatever the column's type takes).
Row = Mapping[str, object]
Selected = TypeVar("Selected", bound=tuple[object, ...])
Item = TypeVar("Item")
# The key column of the rows a queue hands out.
Keyed = QueryableAttribute[uuid.UUID] | ColumnElement[uuid.UUID]
UpsertInsert = postgresql.Insert | sqlite.Insert
PiccoloEngine = PiccoloEngineOf[BaseTransaction]


class Dialect(Protocol):
    """The operations whose SQL or strategy differs between the two databases."""

    @property
    def name(self) -> str:
        """SQLAlchemy's name of the dialect: ``sqlite`` or ``postgresql``."""

    @property
    def binds_arrays(self) -> bool:
        """Whether a list binds as one array parameter (``= ANY(:list)``, ``unnest``)."""

    def insert(self, table: Table | type[Base]) -> UpsertInsert:
        """An INSERT that can say ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""

    def one_of(self, column: ColumnElement[Item], name: str, values: Sequence[Item],
               item_type: TypeEngine[Item]) -> ColumnElement[bool]:
        """``column`` is one of ``values``: one array parameter where it binds as one (the
        statement's text stays the same whatever the number of values), else ``IN``."""

    async def take_turn(self, session: AsyncSession, key: int) -> bool:
        """Whether this transaction may do a job only one process should do at a time
        (keyed by ``key``), without waiting: False while another transaction holds it."""

    def skip_locked(self, query: Select[Selected]) -> Select[Selected]:
        """``query`` locking the rows it returns, past the rows other transactions lock."""

    def claim(self, column: Keyed, due: Select[Selected]) -> ColumnElement[bool]:
        """The condition of an UPDATE that takes the rows ``due`` selects (its first column is
        ``column``'s key) and that no other transaction has taken."""

    async def insert_rows(self, session: AsyncSession, table: Table, rows: Sequence[Row],
                          *, skip_conflicts: bool) -> None:
        """Insert ``rows`` (each with the same keys) in one statement (db/bulk.py)."""

    async def next_serial(self, session: AsyncSession, sequence: str, counter: TextClause,
                          params: Mapping[str, object]) -> int:
        """The next number of ``sequence`` (PostgreSQL), or of the ``counter`` statement, an
        increment of the caller's row that returns the new value (SQLite)."""

    async def create_sequence(self, engine: AsyncEngine, sequence: str, lock: int) -> None:
        """Make sure ``sequence`` exists, processes taking turns on the advisory ``lock``;
        nothing on SQLite, which has no sequences."""

    def migration_lock(self, settings: Settings, key: int) -> AbstractAsyncContextManager[None]:
        """Held while migrating: one migrator at a time per database."""

    def engine_options(self, settings: Settings, overrides: dict[str, object]
                       ) -> dict[str, object]:
        """What ``create_async_engine`` is given for the requests' engine (``overrides``:
        a caller's, e.g. a test's or a tool's pool)."""

    def prepare_engine(self, engine: AsyncEngine) -> None:
        """Set up each connection the engine opens."""

    def batch_engine_options(self, options: dict[str, object], pool_size: int
                             ) -> dict[str, object] | None:
        """The options of the engine of statements captures share (db.engine.batch_engine),
        or None: the requests' engine serves them."""

    async def open_piccolo(self, engine: PiccoloEngine) -> None:
        """Start Piccolo's connection pool (PostgreSQL; SQLite has none)."""

    async def close_piccolo(self, engine: PiccoloEngine) -> None:
        """Close what ``open_piccolo`` opened."""


SQLITE_BUSY_TIMEOUT_MS = 30_000

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=64)
def _unnest(table: Table, columns: tuple[str, ...], skip_conflicts: bool) -> TextClause:
    arrays = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=_PG)}[])" for name in columns)
    names = ", ".join(f'"{name}"' for name in columns)
    return text(f'INSERT INTO "{table.name}" ({names}) SELECT * FROM unnest({arrays})'
                + (" ON CONFLICT DO NOTHING" if skip_conflicts else ""))


@dataclass(frozen=True, slots=True)
class _PostgreSQL:
    name: str = "postgresql"
    binds_arrays: bool = True

    def insert(self, table: Table | type[Base]) -> UpsertInsert:
        return postgresql.insert(table)

    def one_of(self, column: ColumnElement[Item], name: str, values: Sequence[Item],
               item_type: TypeEngine[Item]) -> ColumnElement[bool]:
        return column == any_(bindparam(name, list(values), ARRAY(item_type)))

    async def take_turn(self, session: AsyncSession, key: int) -> bool:
        return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                         {"key": key}))

    def skip_locked(self, query: Select[Selected]) -> Select[Selected]:
        return query.with_for_update(skip_locked=True)

    def claim(self, column: Keyed, due: Select[Selected]) -> ColumnElement[bool]:
        # A materialised CTE runs the locking SELECT exactly once; inside "IN (…)" the
        # planner may re-run it, and SKIP LOCKED can then pick other rows.
        locked = self.skip_locked(due).cte("due").prefix_with("MATERIALIZED")
        return column == next(iter(locked.c))

    async def insert_rows(self, session: AsyncSession, table: Table, rows: Sequence[Row],
                          *, skip_conflicts: bool) -> None:
        columns = tuple(rows[0])
        await session.execute(_unnest(table, columns, skip_conflicts),
                              {name: [row[name] for row in rows] for name in columns})

    async def next_serial(self, session: AsyncSession, sequence: str, counter: TextClause,
                          params: Mapping[str, object]) -> int:
        serial = await session.scalar(text(f"SELECT nextval('{sequence}')"))
        assert serial is not None
        return int(serial)

    async def create_sequence(self, engine: AsyncEngine, sequence: str, lock: int) -> None:
        async with engine.begin() as conn:
            # Concurrent CREATE SEQUENCE IF NOT EXISTS can still collide in the catalog: the
            # lock makes processes take turns.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
            await conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {sequence}"))

    @asynccontextmanager
    async def migration_lock(self, settings: Settings, key: int) -> AsyncIterator[None]:
        import asyncpg

        conn = await asyncpg.connect(settings.postgres_dsn)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", key)
            yield
        finally:
            await conn.close()  # ends the session, which releases the lock

    def engine_options(self, settings: Settings, overrides: dict[str, object]
                       ) -> dict[str, object]:
        # No pre-ping: it costs three round trips per checkout on asyncpg, and a connection
        # the server dropped is invalidated by the error it raises (the request fails once,
        # the pool recovers). Recycling bounds the age of what sits in the pool. No overflow:
        # the pool's size is what the database sees of this process, whatever the load.
        options: dict[str, object] = {
            "pool_size": settings.db_pool_size,
            "max_overflow": 0,
            "pool_timeout": settings.queue_timeout,
            "pool_recycle": 1800,
        }
        options.update(overrides)
        if options.get("poolclass") is NullPool:
            for key in ("pool_size", "max_overflow", "pool_timeout"):
                options.pop(key, None)
        return options

    def prepare_engine(self, engine: AsyncEngine) -> None:
        return None

    def batch_engine_options(self, options: dict[str, object], pool_size: int
                             ) -> dict[str, object] | None:
        return {**options, "pool_size": pool_size, "max_overflow": 0}

    async def open_piccolo(self, engine: PiccoloEngine) -> None:
        # PostgresEngine passes these on to asyncpg.create_pool.
        await engine.start_connection_pool(  # type: ignore[call-arg,no-untyped-call]
            min_size=1, max_size=5)

    async def close_piccolo(self, engine: PiccoloEngine) -> None:
        await engine.close_connection_pool()  # type: ignore[no-untyped-call]


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    # pysqlite's own transaction handling is off (isolation_level=None): we emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    # Every transaction takes SQLite's write lock up front. A deferred transaction that reads
    # and later writes can fail with SQLITE_BUSY without waiting; an immediate one waits its
    # turn (busy_timeout), so concurrent requests queue instead of failing.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True, slots=True)
class _SQLite:
    name: str = "sqlite"
    binds_arrays: bool = False

    def insert(self, table: Table | type[Base]) -> UpsertInsert:
        return sqlite.insert(table)

    def one_of(self, column: ColumnElement[Item], name: str, values: Sequence[Item],
               item_type: TypeEngine[Item]) -> ColumnElement[bool]:
        return column.in_(list(values))

    async def take_turn(self, session: AsyncSession, key: int) -> bool:
        return True  # one writer at a time: this transaction already has the database

    def skip_locked(self, query: Select[Selected]) -> Select[Selected]:
        return query  # this transaction already holds the database's only write lock

    def claim(self, column: Keyed, due: Select[Selected]) -> ColumnElement[bool]:
        return column.in_(due.scalar_subquery())

    async def insert_rows(self, session: AsyncSession, table: Table, rows: Sequence[Row],
                          *, skip_conflicts: bool) -> None:
        statement = (sqlite.insert(table).on_conflict_do_nothing() if skip_conflicts
                     else insert(table))
        await session.execute(statement, [dict(row) for row in rows])

    async def next_serial(self, session: AsyncSession, sequence: str, counter: TextClause,
                          params: Mapping[str, object]) -> int:
        serial = await session.scalar(counter, dict(params))
        assert serial is not None
        return int(serial)

    async def create_sequence(self, engine: AsyncEngine, sequence: str, lock: int) -> None:
        return None

    @asynccontextmanager
    async def migration_lock(self, settings: Settings, key: int) -> AsyncIterator[None]:
        lock_path = settings.sqlite_path.with_name(settings.sqlite_path.name + ".migrate-lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a") as lock_file:
            await anyio.to_thread.run_sync(fcntl.flock, lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def engine_options(self, settings: Settings, overrides: dict[str, object]
                       ) -> dict[str, object]:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            "pool_size": overrides.pop("pool_size", 4),
            "max_overflow": 0,
            "pool_timeout": overrides.pop("pool_timeout", settings.queue_timeout),
            **overrides,
        }

    def prepare_engine(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)

    def batch_engine_options(self, options: dict[str, object], pool_size: int
                             ) -> dict[str, object] | None:
        return None  # one writer at a time: nothing to share a connection for

    async def open_piccolo(self, engine: PiccoloEngine) -> None:
        return None

    async def close_piccolo(self, engine: PiccoloEngine) -> None:
        return None


POSTGRESQL: Dialect = _PostgreSQL()
SQLITE: Dialect = _SQLite()
_BY_NAME = {POSTGRESQL.name: POSTGRESQL, SQLITE.name: SQLITE}


def dialect_of(bind: Bind) -> Dialect:
    """The dialect of a session, connection or engine."""
    if isinstance(bind, AsyncSession | Session):
        return _BY_NAME[bind.get_bind().dialect.name]
    if isinstance(bind, AsyncEngine | AsyncConnection):
        return _BY_NAME[bind.dialect.name]
    return _BY_NAME[bind.dialect.name]


def dialect_for(settings: Settings) -> Dialect:
    """The dialect of the database the settings name (checked by ``load_settings``)."""
    return POSTGRESQL if settings.is_postgres else SQLITE
