"""Idempotency-Key for staff actions: an action sent twice is applied once, and answered alike.

The keys live in ``idempotency_keys`` (orders/models.py), beside the ones order capture
keeps, in the same key space per caller. Capture has a path of its own, tuned for its
statement budget (orders/service.py); this module serves every other action: stock
adjustments and counts, fulfillment work. Old keys are purged by ``KeyPurger``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar, cast

import msgspec
from litestar import Response
from litestar.params import HeaderParameter
from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.auth.schemas import Principal
from comptoir.db.base import new_id, utcnow
from comptoir.db.engine import is_postgres
from comptoir.errors import Conflict, InvalidInput
from comptoir.orders.models import IdempotencyKey, insert_unless_exists

__all__ = ["IdempotencyKeyHeader", "KeyPurger", "answer_once", "purge_keys"]

log = logging.getLogger("comptoir.idempotency")

IdempotencyKeyHeader = Annotated[
    str | None, HeaderParameter(name="Idempotency-Key", required=False,
                                description="Send the same key again to retry safely")]

T = TypeVar("T")

_CLAIM = insert_unless_exists(cast(Table, IdempotencyKey.__table__), ("scope", "key"), "id")
PURGE_BATCH = 1000  # rows per DELETE: no long lock, no huge transaction


def _scope(principal: Principal) -> str:
    return f"{principal.kind}:{principal.id}"  # as capture's: one key space per caller


def _digest(action: str, data: object) -> str:
    """What makes two requests "the same": the action (method and path) and the body."""
    body = b"" if data is None else msgspec.json.encode(data)
    return hashlib.sha256(action.encode() + b"\0" + body).hexdigest()


async def _stored(
    session: AsyncSession, scope: str, key: str, digest: str
) -> tuple[int, str] | None:
    row = (await session.execute(
        select(IdempotencyKey.request_hash, IdempotencyKey.status_code, IdempotencyKey.response)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key))).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise InvalidInput("This Idempotency-Key was already used for another action: use a "
                           "new key for a new action.", code="idempotency_key_reused")
    if row.response is None or row.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry.",
                       code="idempotency_key_in_use")
    return row.status_code, row.response


async def answer_once(
    session: AsyncSession,
    principal: Principal,
    key: str | None,
    *,
    action: str,
    data: object,
    answer_type: type[T],
    status_code: int,
    apply: Callable[[], Awaitable[T]],
) -> Response[T]:
    """Run ``apply`` and commit, once per key: a repeat gets the first answer, unapplied.

    The key row is the transaction's first write. A concurrent twin waits on it (on
    PostgreSQL its unique index, on SQLite the write lock every transaction takes) until
    the first commits, then finds the answer stored with it. A refusal stores nothing: the
    transaction rolls back with the key, and a retry is judged afresh.
    """
    if key is None:
        answer = await apply()
        await session.commit()
        return Response(answer, status_code=status_code)
    if not 1 <= len(key) <= 200:
        raise InvalidInput("An Idempotency-Key has 1 to 200 characters.",
                           code="invalid_idempotency_key")
    scope, digest = _scope(principal), _digest(action, data)
    claimed = await session.scalar(_CLAIM, {
        "id": new_id(), "scope": scope, "key": key, "request_hash": digest,
        "status_code": None, "response": None, "order_id": None, "created_at": utcnow()})
    if claimed is None:
        stored = await _stored(session, scope, key, digest)
        await session.rollback()
        if stored is None:  # purged between our insert and our read
            raise Conflict("This Idempotency-Key changed meanwhile; retry.",
                           code="idempotency_key_in_use")
        return Response(msgspec.json.decode(stored[1], type=answer_type),
                        status_code=stored[0])
    answer = await apply()
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(status_code=status_code, response=msgspec.json.encode(answer).decode()))
    await session.commit()
    return Response(answer, status_code=status_code)


# --- purge ------------------------------------------------------------------------------------


async def purge_keys(
    sessionmaker: async_sessionmaker[AsyncSession], older_than: dt.datetime,
    *, batch: int = PURGE_BATCH,
) -> int:
    """Delete the keys made before ``older_than``, ``batch`` rows per transaction.

    Safe with several processes: on PostgreSQL each takes rows the others have not locked
    (SKIP LOCKED); SQLite runs one writer at a time. A key still being processed is not
    visible to another transaction, and is recent: it is never purged.
    """
    purged = 0
    while True:
        async with sessionmaker() as session, session.begin():
            oldest = (select(IdempotencyKey.id).where(IdempotencyKey.created_at < older_than)
                      .order_by(IdempotencyKey.created_at).limit(batch))
            if is_postgres(session):
                oldest = oldest.with_for_update(skip_locked=True)
            result = await session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.id.in_(oldest.scalar_subquery()))
                .execution_options(synchronize_session=False))
        done = int(getattr(result, "rowcount", 0) or 0)
        purged += done
        if done < batch:
            return purged


class KeyPurger:
    """Purges keys older than ``retention`` every ``interval`` seconds, from the lifespan.

    A failing purge is logged and tried again at the next turn; it never stops the app.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float,
                 retention: dt.timedelta) -> None:
        self.sessionmaker = sessionmaker
        self.interval = interval
        self.retention = retention
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            try:
                purged = await purge_keys(self.sessionmaker, utcnow() - self.retention)
                if purged:
                    log.info("idempotency keys: %d purged", purged)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away for a while: try again next turn
                log.exception("purge of idempotency keys failed; next try in %s s",
                              self.interval)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None and self.interval > 0:
            self._task = asyncio.create_task(self.run(), name="idempotency-key-purger")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
