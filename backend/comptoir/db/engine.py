"""Async engines for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
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
    options: dict[str, Any] = {
        "pool_size": 10,
        "max_overflow": 20,
        "pool_timeout": 30,
        "pool_pre_ping": True,
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


def on_commit(session: AsyncSession, callback: Any) -> None:
    """Run ``callback()`` once the session's current transaction commits (never on rollback)."""
    session.sync_session.info.setdefault(_ON_COMMIT_KEY, []).append(callback)


def _run_on_commit(sync_session: Any) -> None:
    callbacks = sync_session.info.pop(_ON_COMMIT_KEY, [])
    for callback in callbacks:
        callback()


def _drop_on_commit(sync_session: Any, *_args: Any) -> None:
    sync_session.info.pop(_ON_COMMIT_KEY, None)


def _install_session_hooks() -> None:
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _run_on_commit):
        event.listen(Session, "after_commit", _run_on_commit)
        event.listen(Session, "after_soft_rollback", _drop_on_commit)


_install_session_hooks()
