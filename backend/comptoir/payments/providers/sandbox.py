"""The built-in ``sandbox`` payment provider, for the demo and the tests: outcomes decided by
the card token (``sandbox_outcomes.py``: the token table), a bank that performs each
idempotency key once (``sandbox_banks.py``), and signed webhooks (here).

Webhooks
--------

A pending operation is settled by the bank later (``settle``: its final status is set by
its token), and its outcome sent as a webhook: a JSON ``SandboxEvent`` signed like
Stripe's, header ``Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`` with ``COMPTOIR_SANDBOX_WEBHOOK_SECRET`` (``DEMO_WEBHOOK_SECRET`` when
unset), refused when more than 5 minutes from ``now``. ``SandboxProvider.settle`` (and the
bank process's ``POST /operations/{key}/webhook``) gives the signed body to deliver to
``POST /api/payments/webhooks/sandbox``. Any settled or final operation may be sent again:
a replayed webhook changes nothing in Comptoir.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec

from comptoir.db.base import utcnow
from comptoir.payments.providers.base import (
    Answer,
    BadWebhook,
    Operation,
    ProviderCall,
    ProviderUnavailable,
    WebhookOutcome,
)
from comptoir.payments.providers.sandbox_banks import (
    MEMORY_BANK,
    Bank,
    BankRecord,
    HttpBank,
    KeyReused,
)
from comptoir.payments.providers.sandbox_outcomes import Behaviour, behaviour_of
from comptoir.settings import Settings

__all__ = [
    "DEMO_WEBHOOK_SECRET",
    "SIGNATURE_HEADER",
    "SandboxEvent",
    "SandboxProvider",
    "SignedWebhook",
    "event_of",
    "sandbox_provider",
    "sign_webhook",
    "verify_signature",
]

DEMO_WEBHOOK_SECRET = "sandbox-demo-webhook-secret"  # public on purpose: the demo's
SIGNATURE_HEADER = "Sandbox-Signature"
TOLERANCE_SECONDS = 300


class SandboxEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The body of a sandbox webhook: one operation's final outcome."""

    id: str
    created: int
    key: str
    transaction_id: uuid.UUID
    operation: Operation
    reference: str | None
    status: Literal["succeeded", "failed"]
    amount: int
    currency: str
    failure_code: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class SignedWebhook:
    """A webhook ready to deliver: its body and the signature header."""

    body: bytes
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        return {SIGNATURE_HEADER: self.signature, "content-type": "application/json"}


def event_of(record: BankRecord, *, now: dt.datetime) -> SandboxEvent:
    """The webhook event of a final operation (ValueError while it is pending)."""
    if record.status == "pending":
        raise ValueError(f"{record.key} is still pending: settle it first")
    return SandboxEvent(
        id=f"evt_{secrets.token_hex(8)}", created=int(now.timestamp()), key=record.key,
        transaction_id=record.call.transaction_id, operation=record.operation,
        reference=record.reference, status=record.status, amount=record.amount,
        currency=record.currency, failure_code=record.failure_code, message=record.message,
    )


def _signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_webhook(event: SandboxEvent, *, secret: str, now: dt.datetime) -> SignedWebhook:
    body = msgspec.json.encode(event)
    timestamp = int(now.timestamp())
    signature = _signature(secret, timestamp, body)
    return SignedWebhook(body=body, signature=f"t={timestamp},v1={signature}")


def verify_signature(body: bytes, header: str | None, *, secret: str,
                     now: dt.datetime) -> None:
    """BadWebhook unless ``header`` signs ``body`` with ``secret`` within 5 minutes of
    ``now``."""
    if not header:
        raise BadWebhook(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise BadWebhook(f"{SIGNATURE_HEADER} is not t=…,v1=…")
    if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        raise BadWebhook(f"{SIGNATURE_HEADER} is more than {TOLERANCE_SECONDS} s from now")
    expected = _signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise BadWebhook(f"{SIGNATURE_HEADER} does not match the body")


class SandboxProvider:
    """The ``sandbox`` provider (``base.PaymentProvider``) in front of a bank."""

    name = "sandbox"

    def __init__(self, bank: Bank | None = None, *, webhook_secret: str = DEMO_WEBHOOK_SECRET,
                 slow_seconds: float = 3.0, timeout_attempts: int = 2,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.bank = MEMORY_BANK if bank is None else bank
        self.webhook_secret = webhook_secret
        self.slow_seconds = slow_seconds
        self.timeout_attempts = timeout_attempts
        self._sleep = sleep

    async def call(self, call: ProviderCall) -> Answer:
        try:
            record = await self.bank.perform(call)
        except KeyReused as exc:
            return Answer(status="failed", failure_code="idempotency_key_reused",
                          message=str(exc))
        behaviour = behaviour_of(call)
        if behaviour is Behaviour.TIMEOUT and record.times_asked <= self.timeout_attempts:
            raise ProviderUnavailable(
                f"sandbox: answer {record.times_asked} of {self.timeout_attempts} to "
                f"{record.key} lost (tok_timeout); the bank performed it")
        if behaviour is Behaviour.SLOW and self.slow_seconds > 0:
            await self._sleep(self.slow_seconds)
        return record.answer

    async def settle(self, key: str, *, now: dt.datetime | None = None) -> SignedWebhook:
        """Settle the operation of ``key`` at the bank and sign its webhook (for tests and
        the demo to deliver to ``POST /api/payments/webhooks/sandbox``)."""
        at = utcnow() if now is None else now
        record = await self.bank.settle(key)
        return sign_webhook(event_of(record, now=at), secret=self.webhook_secret, now=at)

    def webhook(self, body: bytes, headers: Mapping[str, str], *,
                now: dt.datetime) -> list[WebhookOutcome]:
        verify_signature(body, headers.get(SIGNATURE_HEADER.lower()),
                         secret=self.webhook_secret, now=now)
        try:
            event = msgspec.json.decode(body, type=SandboxEvent)
        except msgspec.DecodeError as exc:
            raise BadWebhook(f"unreadable sandbox event: {exc}") from exc
        return [WebhookOutcome(transaction_id=event.transaction_id, reference=event.reference,
                               operation=event.operation, status=event.status,
                               amount=event.amount, failure_code=event.failure_code,
                               message=event.message)]


def sandbox_provider(settings: Settings, *, bank: Bank | None = None) -> SandboxProvider:
    """The sandbox provider the settings describe: the bank process at
    ``sandbox_bank_url``, else this process's memory bank (or ``bank``, for a test)."""
    if bank is None and settings.sandbox_bank_url:
        bank = HttpBank(settings.sandbox_bank_url)
    return SandboxProvider(bank, webhook_secret=settings.sandbox_webhook_secret
                           or DEMO_WEBHOOK_SECRET,
                           slow_seconds=settings.sandbox_slow_seconds,
                           timeout_attempts=settings.sandbox_timeout_attempts)
