"""The outbox: delivered after commit, retried with backoff, at least once, by many workers."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from comptoir.db.base import utcnow
from comptoir.db.engine import is_postgres
from comptoir.events import dispatcher as dispatcher_module
from comptoir.events.dispatcher import (
    MAX_ATTEMPTS,
    Delivery,
    OutboxDispatcher,
    deliver_webhook,
    sign,
)
from comptoir.events.models import OutboxMessage
from comptoir.events.service import enqueue
from tests.events.receiver import WebhookReceiver


class Recorder:
    """A handler that remembers what it was given and fails while ``failures`` is positive."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.delivered: list[Delivery] = []

    async def __call__(self, delivery: Delivery) -> None:
        await asyncio.sleep(0)  # let racing dispatchers interleave
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("the ERP is down")
        self.delivered.append(delivery)


def make_dispatcher(sessionmaker: Any, handler: Any, **kwargs: Any) -> OutboxDispatcher:
    return OutboxDispatcher(sessionmaker, {"erp.order": handler}, **kwargs)


async def _queue(sessionmaker: Any, count: int = 1, kind: str = "erp.order") -> list[uuid.UUID]:
    async with sessionmaker() as session, session.begin():
        messages = [await enqueue(session, kind, {"order": f"CMP-{n}"}) for n in range(count)]
    return [m.id for m in messages]


async def _message(sessionmaker: Any, message_id: uuid.UUID) -> OutboxMessage:
    async with sessionmaker() as session:
        message = await session.get(OutboxMessage, message_id)
        assert message is not None
        return message


async def _make_due(sessionmaker: Any, message_id: uuid.UUID) -> None:
    """What waiting out the backoff would do."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id)
            .values(available_at=utcnow() - dt.timedelta(seconds=1))
        )


async def test_a_dispatcher_for_one_concern_leaves_other_kinds_untouched(
    sessionmaker: Any,
) -> None:
    handler = Recorder()
    mine = make_dispatcher(sessionmaker, handler, only_handled=True)
    [theirs] = await _queue(sessionmaker, kind="email.order_confirmed")
    [ours] = await _queue(sessionmaker)
    assert await mine.run_once() == 1
    assert await mine.run_once() == 0
    assert [d.id for d in handler.delivered] == [ours]
    untouched = await _message(sessionmaker, theirs)
    assert (untouched.status, untouched.attempts, untouched.claimed_by) == ("pending", 0, None)


async def test_committed_message_is_delivered_once_with_its_id(sessionmaker: Any) -> None:
    handler = Recorder()
    dispatcher = make_dispatcher(sessionmaker, handler)
    [message_id] = await _queue(sessionmaker)

    assert await dispatcher.run_once() == 1
    assert await dispatcher.run_once() == 0

    assert [(d.id, d.payload, d.attempt) for d in handler.delivered] == [
        (message_id, {"order": "CMP-0"}, 1)
    ]
    message = await _message(sessionmaker, message_id)
    assert message.status == "delivered" and message.delivered_at is not None
    assert message.claimed_by == dispatcher.worker_id


async def test_rolled_back_message_is_never_delivered(sessionmaker: Any) -> None:
    handler = Recorder()
    dispatcher = make_dispatcher(sessionmaker, handler)
    async with sessionmaker() as session:
        await enqueue(session, "erp.order", {"order": "CMP-1"})
        await session.flush()
        if is_postgres(session):
            # Written but not committed: invisible to the dispatcher.
            assert await dispatcher.run_once() == 0
        await session.rollback()

    assert await dispatcher.run_once() == 0
    assert handler.delivered == []


async def test_failing_delivery_is_retried_after_2_then_4_then_8_seconds(
    sessionmaker: Any,
) -> None:
    handler = Recorder(failures=3)
    dispatcher = make_dispatcher(sessionmaker, handler)
    [message_id] = await _queue(sessionmaker)

    for attempt, wait in [(1, 2), (2, 4), (3, 8)]:
        before = utcnow()
        assert await dispatcher.run_once() == 1
        message = await _message(sessionmaker, message_id)
        assert message.status == "pending" and message.attempts == attempt
        assert message.last_error == "ConnectionError: the ERP is down"
        delay = (message.available_at - before).total_seconds()
        assert wait - 0.5 < delay < wait + 1.5, (attempt, delay)
        assert await dispatcher.run_once() == 0, "retried before its backoff ended"
        await _make_due(sessionmaker, message_id)

    assert await dispatcher.run_once() == 1
    message = await _message(sessionmaker, message_id)
    assert message.status == "delivered" and message.attempts == 4 and message.last_error is None
    assert len(handler.delivered) == 1


async def test_delivery_gives_up_after_the_last_attempt_and_keeps_the_error(
    sessionmaker: Any,
) -> None:
    dispatcher = make_dispatcher(sessionmaker, Recorder(failures=100))
    [message_id] = await _queue(sessionmaker)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                              .values(attempts=MAX_ATTEMPTS - 1))

    assert await dispatcher.run_once() == 1
    message = await _message(sessionmaker, message_id)
    assert message.status == "dead" and message.attempts == MAX_ATTEMPTS
    assert message.last_error == "ConnectionError: the ERP is down"

    await _make_due(sessionmaker, message_id)
    assert await dispatcher.run_once() == 0


async def test_message_of_a_kind_nobody_handles_is_kept_for_retry_with_the_reason(
    sessionmaker: Any,
) -> None:
    dispatcher = make_dispatcher(sessionmaker, Recorder())
    [message_id] = await _queue(sessionmaker, kind="carrier.label")

    assert await dispatcher.run_once() == 1
    message = await _message(sessionmaker, message_id)
    assert message.status == "pending"
    assert message.last_error == "no handler for outbox kind 'carrier.label'"


async def test_delivery_that_hangs_is_cut_short_and_retried(
    sessionmaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hangs(_delivery: Delivery) -> None:
        await asyncio.sleep(30)

    monkeypatch.setattr(dispatcher_module, "DELIVERY_TIMEOUT_SECONDS", 0.1)
    dispatcher = make_dispatcher(sessionmaker, hangs)
    [message_id] = await _queue(sessionmaker)

    assert await asyncio.wait_for(dispatcher.run_once(), timeout=5) == 1
    message = await _message(sessionmaker, message_id)
    assert message.status == "pending" and message.last_error == "no outcome after 0.1 s"


async def test_message_claimed_by_a_process_that_died_is_delivered_by_another(
    sessionmaker: Any,
) -> None:
    handler = Recorder()
    died = make_dispatcher(sessionmaker, handler, worker_id="died")
    survivor = make_dispatcher(sessionmaker, handler, worker_id="survivor")
    [message_id] = await _queue(sessionmaker)

    [claimed] = await died.claim()  # ... and the process dies before delivering
    assert await survivor.run_once() == 0, "taken while the first claim was still valid"

    async with sessionmaker() as session, session.begin():
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                              .values(claimed_until=utcnow() - dt.timedelta(seconds=1)))
    assert await survivor.run_once() == 1

    message = await _message(sessionmaker, message_id)
    assert message.status == "delivered" and message.claimed_by == "survivor"
    assert message.attempts == 2
    assert [d.id for d in handler.delivered] == [message_id]

    # The first process coming back late with a failure changes nothing.
    await died._finish([(claimed, "TimeoutError: too late")])
    message = await _message(sessionmaker, message_id)
    assert message.status == "delivered" and message.last_error is None


async def test_message_that_keeps_killing_its_process_is_eventually_given_up(
    sessionmaker: Any,
) -> None:
    handler = Recorder()
    dispatcher = make_dispatcher(sessionmaker, handler)
    [message_id] = await _queue(sessionmaker)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id)
            .values(attempts=MAX_ATTEMPTS, claimed_by="crashed",
                    claimed_until=utcnow() - dt.timedelta(seconds=1))
        )

    assert await dispatcher.run_once() == 0
    message = await _message(sessionmaker, message_id)
    assert message.status == "dead" and "abandoned" in (message.last_error or "")
    assert handler.delivered == []


async def test_webhook_posts_the_json_body_with_its_delivery_id_and_a_verifiable_signature(
    app: Any, sessionmaker: Any,
) -> None:
    secret = "whsec-shop-42"
    body = {"order": "CMP-2026-000123", "status": "shipped", "total": 4990}
    async with WebhookReceiver() as receiver:
        async with sessionmaker() as session, session.begin():
            signed = await enqueue(session, "webhook",
                                   {"url": receiver.url, "body": body, "secret": secret})
            unsigned = await enqueue(session, "webhook", {"url": receiver.url, "body": body})
        assert await app.state.dispatcher.run_once() == 2
        received = await receiver.wait_for(2)

    assert len(received) == 2
    by_id = {r.headers["comptoir-delivery"]: r for r in received}
    assert set(by_id) == {str(signed.id), str(unsigned.id)}
    for request in received:
        assert (request.method, request.path) == ("POST", "/hooks")
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.body) == body

    request = by_id[str(signed.id)]
    timestamp = request.headers["comptoir-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body,
                        hashlib.sha256).hexdigest()
    assert request.headers["comptoir-signature"] == f"v1={expected}"
    assert abs(int(timestamp) - utcnow().timestamp()) < 60
    assert "comptoir-signature" not in by_id[str(unsigned.id)].headers

    assert (await _message(sessionmaker, signed.id)).status == "delivered"


async def test_webhook_answered_with_an_error_is_retried_until_the_receiver_accepts_it(
    app: Any, sessionmaker: Any,
) -> None:
    async with WebhookReceiver(status=503) as receiver:
        async with sessionmaker() as session, session.begin():
            message = await enqueue(session, "webhook", {"url": receiver.url, "body": {"n": 1}})
        assert await app.state.dispatcher.run_once() == 1
        failed = await _message(sessionmaker, message.id)
        assert failed.status == "pending" and "503" in (failed.last_error or "")

        receiver.status = 200
        await _make_due(sessionmaker, message.id)
        assert await app.state.dispatcher.run_once() == 1

    ids = [r.headers["comptoir-delivery"] for r in receiver.received]
    assert ids == [str(message.id)] * 2, "a retry must carry the same id, for de-duplication"
    assert (await _message(sessionmaker, message.id)).status == "delivered"


async def test_signature_helper_matches_what_a_receiver_computes() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", "1700000000", body) == f"v1={expected}"


async def test_webhook_through_a_given_client_fails_on_a_redirect() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"location": "http://elsewhere.example/"})

    delivery = Delivery(id=uuid.uuid4(), kind="webhook", attempt=1,
                        payload={"url": "http://shop.example/hooks", "body": {"x": 1}})
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(httpx.HTTPStatusError):
            await deliver_webhook(delivery, client)
    assert [r.headers["comptoir-delivery"] for r in seen] == [str(delivery.id)]


async def test_running_dispatcher_delivers_right_after_commit_without_waiting_for_its_poll(
    sessionmaker: Any,
) -> None:
    handler = Recorder()
    dispatcher = make_dispatcher(sessionmaker, handler, poll_seconds=30)
    dispatcher.start()
    try:
        await asyncio.sleep(0.3)  # it has looked, found nothing, and sleeps for 30 s
        [message_id] = await _queue(sessionmaker)
        for _ in range(100):
            if handler.delivered:
                break
            await asyncio.sleep(0.02)
    finally:
        await dispatcher.stop()
    assert [d.id for d in handler.delivered] == [message_id]


@pytest.mark.postgres
async def test_racing_dispatchers_deliver_each_of_300_messages_exactly_once(
    sessionmaker: Any,
) -> None:
    handler = Recorder()
    dispatchers = [make_dispatcher(sessionmaker, handler, batch_size=10, worker_id=f"worker-{n}")
                   for n in range(4)]
    async with sessionmaker() as session, session.begin():
        for n in range(300):
            await enqueue(session, "erp.order", {"order": f"CMP-{n}"})

    async def drain(dispatcher: OutboxDispatcher) -> None:
        idle = 0
        while idle < 3:
            idle = 0 if await dispatcher.run_once() else idle + 1

    await asyncio.wait_for(asyncio.gather(*(drain(d) for d in dispatchers)), timeout=60)

    counts = Counter(d.id for d in handler.delivered)
    assert len(counts) == 300
    assert [n for n in counts.values() if n > 1] == []
    async with sessionmaker() as session:
        rows = (await session.execute(select(OutboxMessage.status, OutboxMessage.attempts,
                                             OutboxMessage.claimed_by))).all()
    assert {(status, attempts) for status, attempts, _ in rows} == {("delivered", 1)}
    assert len({worker for _, _, worker in rows}) > 1, "one dispatcher did all the work"
