"""Helpers for payment tests: a provider that answers by the card token and counts what it
performs, the outbox run until it is quiet, and orders paid by card through the real API."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from comptoir.payments.providers.base import (
    Answer,
    Operation,
    ProviderCall,
    ProviderUnavailable,
    WebhookOutcome,
)
from tests.fulfillment.conftest import act, books, pickup_code, work_for  # noqa: F401
from tests.invoicing.conftest import company, packed, ship  # noqa: F401
from tests.orders.conftest import level, order_body, pickup, stored, web  # noqa: F401


@dataclass
class Bank:
    """A provider for tests, by the authorization's card token: ``tok_ok`` succeeds,
    ``tok_declined`` is declined, ``tok_webhook`` answers pending (``settle`` later), and
    ``tok_timeout`` is not heard from on its first call. Each idempotency key is performed
    once: ``performed`` counts performances per key, ``asked`` every call."""

    name: str = "sandbox"
    performed: dict[str, int] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    asked: list[ProviderCall] = field(default_factory=list)
    timeouts: set[str] = field(default_factory=set)
    fail_next: set[Operation] = field(default_factory=set)

    async def call(self, call: ProviderCall) -> Answer:
        self.asked.append(call)
        key = call.idempotency_key
        if key in self.answers:
            return self.answers[key]
        if call.source.endswith("tok_timeout") and key not in self.timeouts:
            self.timeouts.add(key)
            raise ProviderUnavailable("no answer in time")
        self.performed[key] = self.performed.get(key, 0) + 1
        if call.operation in self.fail_next:
            self.fail_next.discard(call.operation)
            answer = Answer(status="failed", failure_code="processing_error")
        elif call.operation is Operation.AUTHORIZE and call.source == "tok_declined":
            answer = Answer(status="failed", failure_code="card_declined")
        elif call.operation is Operation.AUTHORIZE and call.source == "tok_webhook":
            answer = Answer(status="pending", reference=f"ref-{call.transaction_id}")
        else:
            answer = Answer(status="succeeded", reference=f"ref-{call.transaction_id}")
        self.answers[key] = answer
        return answer

    def webhook(self, body: bytes, headers: Mapping[str, str], *,
                now: dt.datetime) -> list[WebhookOutcome]:
        import msgspec

        from comptoir.payments.providers.base import BadWebhook

        if headers.get("test-signature") != "good":
            raise BadWebhook("bad signature")
        return msgspec.json.decode(body, type=list[WebhookOutcome])


@pytest.fixture
async def bank(app: Any) -> AsyncIterator[Bank]:
    """The test provider, as the app's ``sandbox`` for this test."""
    providers = app.state["payment_calls"].providers
    before = dict(providers)
    providers["sandbox"] = fake = Bank()
    yield fake
    providers.clear()
    providers.update(before)


@pytest.fixture
def drain(app: Any) -> Callable[[], Any]:
    """``await drain()``: deliver outbox messages until none is due."""

    async def run() -> int:
        delivered = 0
        for _ in range(50):
            done = await app.state["dispatcher"].run_once()
            delivered += done
            if not done:
                return delivered
        raise AssertionError("the outbox never went quiet")

    return run


@pytest.fixture
def money_rows(sessionmaker: Any) -> Any:
    """Every payment row and outbox message: what a refusal must leave as it was."""
    from sqlalchemy import func, select

    from comptoir.events.models import OutboxMessage
    from comptoir.invoicing.models import CreditNote
    from comptoir.payments.models import PaymentOutcome, PaymentTransaction

    async def read() -> tuple[int, ...]:
        async with sessionmaker() as session:
            return tuple([await session.scalar(select(func.count()).select_from(table))
                          for table in (PaymentTransaction, PaymentOutcome, OutboxMessage,
                                        CreditNote)])

    return read


def card(token: str = "tok_ok", amount: int = 10**6) -> dict[str, Any]:
    return {"provider": "sandbox", "token": token, "amount": amount}


async def payments(client: httpx.AsyncClient, number: str) -> dict[str, Any]:
    response = await client.get(f"/api/orders/{number}/payments")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
