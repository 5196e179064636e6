"""Deliver outbox messages after commit: at least once, with retries and backoff, many processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import hmac
import logging
import os
import socket
import ssl
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import msgspec
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.db.base import utcnow
from comptoir.db.dialect import dialect_of
from comptoir.events.models import OutboxMessage
from comptoir.events.service import outbox_wakeup
from comptoir.tasks import stop_tasks

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
# A handler gets this long before its delivery counts as failed; well inside the claim, so
# another process never takes a message whose first delivery is still under way.
DELIVERY_TIMEOUT_SECONDS = 30
MAX_ATTEMPTS = 12


def backoff(attempt: int) -> dt.timedelta:
    """Seconds to wait before retry ``attempt`` (1-based): 2, 4, 8… capped at one hour."""
    return dt.timedelta(seconds=min(2**attempt, 3600))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 signature of a webhook body, as sent in ``Comptoir-Signature``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Building a TLS context reads the whole CA bundle (~60 ms of CPU): once per process,
    # not once per webhook.
    return httpx.create_ssl_context()


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
    http = client or httpx.AsyncClient(timeout=10, verify=_tls_context())
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
        only_handled: bool = False,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.handlers = handlers
        # Claim only the kinds it has a handler for (a dispatcher for one concern, e.g. the
        # demo's seed settling its payments), leaving the others to the app's dispatcher.
        self.only_handled = only_handled
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        # "host:pid:random", within the 80 characters of outbox.claimed_by.
        self.worker_id = (
            worker_id or f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        )[:80]
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def claim(self) -> list[Delivery]:
        """Lease a batch of due messages to this worker (and bury messages that keep dying)."""
        now = utcnow()
        lease = {
            "claimed_by": self.worker_id,
            "claimed_until": now + dt.timedelta(seconds=CLAIM_SECONDS),
            "attempts": OutboxMessage.attempts + 1,
        }
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.available_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                *([OutboxMessage.kind.in_(sorted(self.handlers))] if self.only_handled else []),
            )
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(self.batch_size)
        )
        async with self.sessionmaker() as session, session.begin():
            await self._bury_abandoned(session, now)
            claim = update(OutboxMessage).where(dialect_of(session).claim(OutboxMessage.id, due))
            rows = await session.execute(
                claim.values(**lease)
                .returning(
                    OutboxMessage.id,
                    OutboxMessage.kind,
                    OutboxMessage.payload,
                    OutboxMessage.attempts,
                )
                .execution_options(synchronize_session=False)
            )
            return [
                Delivery(id=r.id, kind=r.kind, payload=r.payload, attempt=r.attempts) for r in rows
            ]

    async def _bury_abandoned(self, session: AsyncSession, now: dt.datetime) -> None:
        # A message whose every claim ends with its process dying (out of memory, killed)
        # never reaches _finish: after MAX_ATTEMPTS claims it is dead, not retried forever.
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.attempts >= MAX_ATTEMPTS,
                OutboxMessage.claimed_until < now,
            )
            .values(
                status="dead",
                claimed_until=None,
                last_error=func.coalesce(OutboxMessage.last_error, "")
                + f" [abandoned: claimed {MAX_ATTEMPTS} times without an outcome]",
            )
            .execution_options(synchronize_session=False)
        )

    async def _attempt(self, delivery: Delivery) -> str | None:
        """Run the delivery's handler; the failure as text, or None when it succeeded."""
        handler = self.handlers.get(delivery.kind)
        if handler is None:
            return f"no handler for outbox kind {delivery.kind!r}"
        try:
            await asyncio.wait_for(handler(delivery), timeout=DELIVERY_TIMEOUT_SECONDS)
        except TimeoutError:
            error = f"no outcome after {DELIVERY_TIMEOUT_SECONDS} s"
        except Exception as exc:  # a failing side effect is retried, never lost
            error = f"{type(exc).__name__}: {exc}"
        else:
            return None
        log.warning("outbox %s (%s) attempt %s failed: %s", delivery.id, delivery.kind,
                    delivery.attempt, error)
        return error

    async def _finish(self, outcomes: list[tuple[Delivery, str | None]]) -> None:
        """Record a batch's outcomes in one transaction (only for messages still ours)."""
        now = utcnow()
        mine = OutboxMessage.claimed_by == self.worker_id
        delivered = [d.id for d, error in outcomes if error is None]
        async with self.sessionmaker() as session, session.begin():
            if delivered:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(delivered), mine)
                    .values(status="delivered", delivered_at=now, claimed_until=None,
                            last_error=None)
                    .execution_options(synchronize_session=False)
                )
            for delivery, error in outcomes:
                if error is None:
                    continue
                values: dict[str, Any] = {"claimed_until": None, "last_error": error[:2000]}
                if delivery.attempt >= MAX_ATTEMPTS:
                    values["status"] = "dead"
                else:
                    values["available_at"] = now + backoff(delivery.attempt)
                await session.execute(
                    update(OutboxMessage)
                    .where(and_(OutboxMessage.id == delivery.id, mine))
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )

    async def deliver(self, delivery: Delivery) -> None:
        """Deliver one claimed message and record the outcome."""
        await self._finish([(delivery, await self._attempt(delivery))])

    async def run_once(self) -> int:
        """Claim and deliver one batch; return how many were attempted."""
        batch = await self.claim()
        if batch:
            errors = await asyncio.gather(*(self._attempt(d) for d in batch))
            await self._finish(list(zip(batch, errors, strict=True)))
        return len(batch)

    async def run(self) -> None:
        outbox_wakeup.register(self._wake)
        try:
            while True:
                # Cleared before looking, so a commit during run_once() is not missed.
                self._wake.clear()
                try:
                    if await self.run_once():
                        continue
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox dispatcher: claim failed; retrying")
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
            await stop_tasks([self._task])
            self._task = None
