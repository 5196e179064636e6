"""Async engines for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import NullPool

from comptoir.settings import Settings

__all__ = ["create_engine", "is_postgres", "make_sessionmaker", "on_commit"]

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_postgres(conn_or_session: Any) -> bool:
    """Whether a connection, session or engine talks to PostgreSQL."""
    bind = getattr(conn_or_session, "bind", conn_or_session)
    return bool(bind.dialect.name == "postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
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


def create_engine(settings: Settings, **overrides: Any) -> AsyncEngine:
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        engine = _create_async_engine(
            settings.sqlalchemy_url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=overrides.pop("pool_size", 4),
            max_overflow=0,
            pool_timeout=60,
            **overrides,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    # No pre-ping: it costs three round trips per checkout on asyncpg, and a connection the
    # server dropped is invalidated by the error it raises (the request fails once, the
    # pool recovers). Recycling bounds the age of what sits in the pool.
    options: dict[str, Any] = {
        "pool_size": 30,
        "max_overflow": 10,
        "pool_timeout": 30,
        "pool_recycle": 1800,
    }
    options.update(overrides)
    if options.get("poolclass") is NullPool:
        for key in ("pool_size", "max_overflow", "pool_timeout"):
            options.pop(key, None)
    return _create_async_engine(settings.sqlalchemy_url, **options)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# --- after-commit callbacks -------------------------------------------------------------------

_ON_COMMIT_KEY = "comptoir.on_commit"

log = logging.getLogger("comptoir.db")


def on_commit(session: AsyncSession | Session, callback: Callable[[], None]) -> None:
    """Run ``callback()`` once the session's outermost transaction commits (never on rollback).

    A callback registered inside a savepoint (``begin_nested``) is dropped if that savepoint
    rolls back, and waits for the outer commit if it is released. A failing callback is
    logged: the data is already committed, so the caller must not see an error.
    """
    sync_session = session.sync_session if isinstance(session, AsyncSession) else session
    # Tag each callback with the savepoint it belongs to (None: the outer transaction).
    savepoint = sync_session.get_nested_transaction()
    sync_session.info.setdefault(_ON_COMMIT_KEY, []).append((savepoint, callback))


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _run_on_commit(sync_session: Session) -> None:
    if sync_session.in_nested_transaction():
        return  # a savepoint was released: the outer transaction may still roll back
    for _savepoint, callback in sync_session.info.pop(_ON_COMMIT_KEY, []):
        try:
            callback()
        except Exception:  # committed already: report, never turn success into an error
            log.exception("after-commit callback %r failed", callback)


def _drop_on_rollback(sync_session: Session, previous_transaction: SessionTransaction) -> None:
    callbacks = sync_session.info.get(_ON_COMMIT_KEY)
    if not callbacks:
        return
    if previous_transaction.parent is None:
        sync_session.info.pop(_ON_COMMIT_KEY, None)
        return
    sync_session.info[_ON_COMMIT_KEY] = [
        (savepoint, callback)
        for savepoint, callback in callbacks
        if not _within(savepoint, previous_transaction)
    ]


def _drop_on_end(sync_session: Session, transaction: SessionTransaction) -> None:
    # The outer transaction ended without committing (e.g. the session was closed).
    if transaction.parent is None:
        sync_session.info.pop(_ON_COMMIT_KEY, None)


def _install_session_hooks() -> None:
    if not event.contains(Session, "after_commit", _run_on_commit):
        event.listen(Session, "after_commit", _run_on_commit)
        event.listen(Session, "after_soft_rollback", _drop_on_rollback)
        event.listen(Session, "after_transaction_end", _drop_on_end)


_install_session_hooks()
