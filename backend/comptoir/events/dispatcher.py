"""Deliver outbox messages after commit: at least once, with retries and backoff, many processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import msgspec
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.db.base import utcnow
from comptoir.db.engine import is_postgres
from comptoir.events.models import OutboxMessage
from comptoir.events.service import outbox_wakeup

__all__ = ["Delivery", "OutboxDispatcher", "backoff", "deliver_webhook", "sign"]

log = logging.getLogger("comptoir.outbox")


class Delivery(msgspec.Struct, frozen=True):
    """What a handler receives: the message id doubles as the de-duplication key."""

    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    attempt: int


Handler = Callable[[Delivery], Awaitable[None]]

CLAIM_SECONDS = 60
MAX_ATTEMPTS = 12


def backoff(attempt: int) -> dt.timedelta:
    """Seconds to wait before retry ``attempt`` (1-based): 2, 4, 8… capped at one hour."""
    return dt.timedelta(seconds=min(2**attempt, 3600))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 signature of a webhook body, as sent in ``Comptoir-Signature``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


async def deliver_webhook(delivery: Delivery, client: httpx.AsyncClient | None = None) -> None:
    """POST ``payload["body"]`` to ``payload["url"]``; any non-2xx answer is a failure."""
    url = delivery.payload["url"]
    body = msgspec.json.encode(delivery.payload.get("body", {}))
    timestamp = str(int(utcnow().timestamp()))
    headers = {
        "content-type": "application/json",
        "comptoir-delivery": str(delivery.id),
        "comptoir-timestamp": timestamp,
        "user-agent": "Comptoir-Webhooks/1",
    }
    secret = delivery.payload.get("secret")
    if secret:
        headers["comptoir-signature"] = sign(secret, timestamp, body)
    own = client is None
    http = client or httpx.AsyncClient(timeout=10)
    try:
        response = await http.post(url, content=body, headers=headers)
        response.raise_for_status()
    finally:
        if own:
            await http.aclose()


class OutboxDispatcher:
    """Claims due messages, runs their handler, and records the outcome.

    A claim is a lease (``claimed_until``): a process that dies mid-delivery leaves the
    message to be claimed again once the lease ends, hence "at least once". On PostgreSQL
    the claim skips rows another process is claiming (``FOR UPDATE SKIP LOCKED``); SQLite
    serialises writers, so its claim is exclusive by construction.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: dict[str, Handler],
        *,
        poll_seconds: float = 1.0,
        batch_size: int = 20,
        worker_id: str | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.handlers = handlers
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def claim(self) -> list[Delivery]:
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            due = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.available_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .order_by(OutboxMessage.available_at, OutboxMessage.id)
                .limit(self.batch_size)
            )
            if is_postgres(session):
                due = due.with_for_update(skip_locked=True)
            rows = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due.scalar_subquery()))
                .values(
                    claimed_by=self.worker_id,
                    claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                    attempts=OutboxMessage.attempts + 1,
                )
                .returning(
                    OutboxMessage.id,
                    OutboxMessage.kind,
                    OutboxMessage.payload,
                    OutboxMessage.attempts,
                )
                .execution_options(synchronize_session=False)
            )
            return [Delivery(id=r.id, kind=r.kind, payload=r.payload, attempt=r.attempts) for r in rows]

    async def _finish(self, delivery: Delivery, error: str | None) -> None:
        now = utcnow()
        mine = and_(OutboxMessage.id == delivery.id, OutboxMessage.claimed_by == self.worker_id)
        if error is None:
            values: dict[str, Any] = {"status": "delivered", "delivered_at": now, "last_error": None}
        elif delivery.attempt >= MAX_ATTEMPTS:
            values = {"status": "dead", "last_error": error[:2000]}
        else:
            values = {
                "available_at": now + backoff(delivery.attempt),
                "claimed_until": None,
                "last_error": error[:2000],
            }
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(mine)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def deliver(self, delivery: Delivery) -> None:
        handler = self.handlers.get(delivery.kind)
        error: str | None = None
        if handler is None:
            error = f"no handler for outbox kind {delivery.kind!r}"
        else:
            try:
                await handler(delivery)
            except Exception as exc:  # a failing side effect is retried, never lost
                error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox %s (%s) attempt %s failed: %s", delivery.id, delivery.kind,
                            delivery.attempt, error)
        await self._finish(delivery, error)

    async def run_once(self) -> int:
        """Claim and deliver one batch; return how many were attempted."""
        batch = await self.claim()
        if batch:
            await asyncio.gather(*(self.deliver(d) for d in batch))
        return len(batch)

    async def run(self) -> None:
        outbox_wakeup.register(self._wake)
        try:
            while True:
                try:
                    if await self.run_once():
                        continue
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox dispatcher: claim failed; retrying")
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except TimeoutError:
                    pass
        finally:
            outbox_wakeup.unregister(self._wake)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
