"""Idempotency-Key for staff actions: an action sent twice is applied once, and answered alike.

The keys live in ``idempotency_keys`` (``IdempotencyKey``, this module's table), order
capture's among them, in the same key space per caller. Capture writes its key with the
order, tuned for its statement budget (orders/capture.py, with ``CLAIM_KEY``); this module
serves every other action: stock adjustments and counts, fulfillment work. Old keys are
purged by ``purge_turn``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar, cast

import msgspec
from litestar import Response
from litestar.params import HeaderParameter
from sqlalchemy import (
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.auth.schemas import Principal
from comptoir.db.base import GUID, Base, DateTimeUTC, UUIDPrimaryKey, new_id, utcnow
from comptoir.db.dialect import dialect_of
from comptoir.db.insert import insert_unless_exists
from comptoir.errors import Conflict, InvalidInput

__all__ = [
    "CLAIM_KEY",
    "IdempotencyKey",
    "IdempotencyKeyHeader",
    "answer_once",
    "key_scope",
    "purge_keys",
    "purge_turn",
    "stored_response",
]

log = logging.getLogger("comptoir.idempotency")

IdempotencyKeyHeader = Annotated[
    str | None, HeaderParameter(name="Idempotency-Key", required=False,
                                description="Send the same key again to retry safely")]

T = TypeVar("T")

class IdempotencyKey(UUIDPrimaryKey, Base):
    """A caller's ``Idempotency-Key`` with the request it came with and the answer it got."""

    __tablename__ = "idempotency_keys"

    id: Mapped[uuid.UUID]
    scope: Mapped[str] = mapped_column(String(160))  # who sent it: one key space per caller
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("scope", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),  # the purge takes the oldest
    )


CLAIM_KEY = insert_unless_exists(cast(Table, IdempotencyKey.__table__), ("scope", "key"), "id")
PURGE_BATCH = 1000  # rows per DELETE: no long lock, no huge transaction


def key_scope(principal: Principal) -> str:
    return f"{principal.kind}:{principal.id}"  # one key space per caller


def _digest(action: str, data: object) -> str:
    """What makes two requests "the same": the action (method and path) and the body."""
    body = b"" if data is None else msgspec.json.encode(data)
    return hashlib.sha256(action.encode() + b"\0" + body).hexdigest()


async def stored_response(
    session: AsyncSession, scope: str, key: str, digest: str
) -> tuple[int, str] | None:
    """The status and body the first request with this key got (None: no such key); a
    refusal when that request had another body, or is still being processed."""
    row = (await session.execute(
        select(IdempotencyKey.request_hash, IdempotencyKey.status_code, IdempotencyKey.response)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key))).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise InvalidInput("This Idempotency-Key was already used for another request: use a "
                           "new key for a new one.", code="idempotency_key_reused")
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
    scope, digest = key_scope(principal), _digest(action, data)
    claimed = await session.scalar(CLAIM_KEY, {
        "id": new_id(), "scope": scope, "key": key, "request_hash": digest,
        "status_code": None, "response": None, "order_id": None, "created_at": utcnow()})
    if claimed is None:
        stored = await stored_response(session, scope, key, digest)
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
            oldest = dialect_of(session).skip_locked(oldest)
            result = await session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.id.in_(oldest.scalar_subquery()))
                .execution_options(synchronize_session=False))
        done = int(getattr(result, "rowcount", 0) or 0)
        purged += done
        if done < batch:
            return purged


async def purge_turn(
    sessionmaker: async_sessionmaker[AsyncSession], retention: dt.timedelta
) -> None:
    """One turn of the periodic purge (periodic.py), with what it did in the log."""
    purged = await purge_keys(sessionmaker, utcnow() - retention)
    if purged:
        log.info("idempotency keys: %d purged", purged)
