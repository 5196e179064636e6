"""Async engines for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from comptoir.db.dialect import POSTGRESQL, Bind, dialect_for, dialect_of
from comptoir.settings import Settings

__all__ = ["Limits", "batch_engine", "create_engine", "dispose", "is_postgres", "limits",
           "make_sessionmaker", "on_commit"]

def is_postgres(bind: Bind) -> bool:
    """Whether a connection, session or engine talks to PostgreSQL (for tests and reports:
    code that behaves differently asks its ``db.dialect.Dialect`` instead)."""
    return dialect_of(bind) is POSTGRESQL


@dataclass(frozen=True, slots=True)
class Limits:
    """How much an engine's users may wait and batch (from the settings)."""

    queue_timeout: float = 10.0  # seconds a request waits for a connection or its batch
    capture_batch: int = 32  # orders in one shared capture statement at most
    max_waiting_captures: int = 1000  # captures waiting for their statement, per process


_limits: weakref.WeakKeyDictionary[AsyncEngine, Limits] = weakref.WeakKeyDictionary()


def limits(engine: AsyncEngine) -> Limits:
    """The limits ``create_engine`` was given for this engine (the defaults otherwise)."""
    return _limits.get(engine) or Limits()


# Connections of the statements captures share: two read lanes (variants and stock, the
# locations' counts of the day) and a write lane per year (two years meet at New Year).
BATCH_POOL_SIZE = 4

# Each engine's batch engine, made on first use (where the dialect has one: PostgreSQL).
_batch_engines: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = (
    weakref.WeakKeyDictionary())
_batch_options: weakref.WeakKeyDictionary[AsyncEngine, dict[str, object]] = (
    weakref.WeakKeyDictionary())


def create_engine(settings: Settings, **overrides: object) -> AsyncEngine:
    """The engine of the requests' sessions. Waiting for a connection is bounded by
    ``queue_timeout``: past it the pool raises ``sqlalchemy.exc.TimeoutError``, which the
    API answers 503 with Retry-After (errors.py), never a 30-second stall."""
    dialect = dialect_for(settings)
    options = dialect.engine_options(settings, dict(overrides))
    engine = _create_async_engine(settings.sqlalchemy_url, **options)
    dialect.prepare_engine(engine)
    batch = dialect.batch_engine_options(options, BATCH_POOL_SIZE)
    if batch is not None:
        _batch_options[engine] = batch
    _limits[engine] = _limits_of(settings)
    return engine


def _limits_of(settings: Settings) -> Limits:
    return Limits(queue_timeout=settings.queue_timeout, capture_batch=settings.capture_batch,
                  max_waiting_captures=settings.max_waiting_captures)


def batch_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine of the statements that captures arriving together share (PostgreSQL).

    Its connections are its own, not the requests' pool: a capture waiting for its shared
    statement holds no connection, and the statement never waits behind requests that
    wait for it — past about as many waiting captures as the pool held, they would wait
    for each other until the pool's timeout. An engine made without ``create_engine``
    (a test's) is its own batch engine.
    """
    batch = _batch_engines.get(engine)
    if batch is None:
        options = _batch_options.get(engine)
        if options is None:
            return engine
        batch = _batch_engines[engine] = _create_async_engine(engine.url, **options)
    return batch


async def dispose(engine: AsyncEngine) -> None:
    """Close the engine's connections, and its batch engine's."""
    batch = _batch_engines.pop(engine, None)
    if batch is not None:
        await batch.dispose()
    await engine.dispose()


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
