"""The built-in ``sandbox`` payment provider: outcomes decided by the card token, a bank that
performs each idempotency key once, and signed webhooks, for the demo and the tests.

Tokens
------

An order captured with ``"payment": {"provider": "sandbox", "token": "tok_…", …}`` is
authorized with that token; what happens to it, and to the captures, voids and refunds made
on that authorization later, is decided by the token alone:

======================== ====================================== ==============================
token                    authorization                          capture, void, refund on it
======================== ====================================== ==============================
``tok_ok``, any other    succeeded                              succeeded
``tok_…``
``tok_declined``         failed ``card_declined``               failed ``authorization_failed``
``tok_insufficient``     failed ``insufficient_funds``          failed ``authorization_failed``
``tok_slow``             succeeded, answered after              succeeded, answered after
                         ``slow_seconds``                       ``slow_seconds``
``tok_timeout``          performed at the first ask, but the    the same
                         first N answers are lost
                         (``ProviderUnavailable``); ask N+1
                         gets succeeded
``tok_webhook``          pending; succeeded by webhook          pending; succeeded by webhook
``tok_webhook_declined`` pending; failed ``card_declined`` by   failed ``authorization_failed``
                         webhook
======================== ====================================== ==============================

N is ``timeout_attempts`` (``COMPTOIR_SANDBOX_TIMEOUT_ATTEMPTS``, 2) and ``slow_seconds``
``COMPTOIR_SANDBOX_SLOW_SECONDS`` (3): a lost answer is what a real timeout leaves behind
(the bank did it, Comptoir did not hear), so the outbox's retry with the same key is the
case exercised, and it must get the first answer back, not a second charge.

How the token travels: an authorization's reference is ``sbx_auth_<behaviour>_<16 hex>``
(``sbx_auth_timeout_3f2a…``), and the captures, voids and refunds name it as their
``source``; so every decision is a pure function of the call (``outcome``), the same in
this process and in the bank process. An authorization whose source is already such a
reference (one the shop made itself with the sandbox) is adopted with that reference.
Any other source fails: ``invalid_token`` for an authorization, ``authorization_unknown``
for the others. References of the other operations are ``sbx_cap_…``, ``sbx_void_…``,
``sbx_ref_…``; all are derived from the idempotency key, so a repeat names the same one.

The bank
--------

The bank is the provider's side: it records every operation it performed under its
idempotency key (operation, amount, currency, reference, status, times asked). A key asked
again is not performed again: the bank gives back its first answer and counts the repeat.
The same key with another operation, amount, currency or source is refused
(``idempotency_key_reused``, nothing performed). ``MemoryBank`` lives in this process (the
default, one per process, for ``make run`` and most tests); ``HttpBank`` talks to a sandbox
bank process (``python -m comptoir.payments.sandbox_bank --port 8765 --db var/bank.db``,
state in SQLite) when ``COMPTOIR_SANDBOX_BANK_URL`` is set. A bank that does not answer
is ``ProviderUnavailable``.

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

import abc
import asyncio
import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypeVar

import httpx
import msgspec

from comptoir.payments.providers.base import (
    Answer,
    BadWebhook,
    Operation,
    ProviderCall,
    ProviderUnavailable,
    WebhookOutcome,
)
from comptoir.settings import Settings

__all__ = [
    "DEMO_WEBHOOK_SECRET",
    "MEMORY_BANK",
    "SIGNATURE_HEADER",
    "Bank",
    "BankRecord",
    "Behaviour",
    "HttpBank",
    "KeyReused",
    "MemoryBank",
    "SandboxEvent",
    "SandboxProvider",
    "SignedWebhook",
    "asked_again",
    "behaviour_of",
    "event_of",
    "first_record",
    "outcome",
    "sandbox_provider",
    "settled",
    "sign_webhook",
    "verify_signature",
]

DEMO_WEBHOOK_SECRET = "sandbox-demo-webhook-secret"  # public on purpose: the demo's
SIGNATURE_HEADER = "Sandbox-Signature"
TOLERANCE_SECONDS = 300
BANK_TIMEOUT_SECONDS = 10.0
AUTH_PREFIX = "sbx_auth_"
T = TypeVar("T")
_PREFIXES = {Operation.CAPTURE: "sbx_cap_", Operation.VOID: "sbx_void_",
             Operation.REFUND: "sbx_ref_"}


class Behaviour(StrEnum):
    """What a token does (the table in this module's docstring)."""

    OK = "ok"
    DECLINED = "declined"
    INSUFFICIENT = "insufficient"
    SLOW = "slow"
    TIMEOUT = "timeout"
    WEBHOOK = "webhook"
    WEBHOOK_DECLINED = "webhook_declined"


_NAMES = frozenset(b.value for b in Behaviour)
_REFUSED_AUTHORIZATIONS = {
    Behaviour.DECLINED: ("card_declined", "The card was declined."),
    Behaviour.INSUFFICIENT: ("insufficient_funds", "The card has insufficient funds."),
    Behaviour.WEBHOOK_DECLINED: ("card_declined", "The card was declined."),
}


def behaviour_of(call: ProviderCall) -> Behaviour | None:
    """The behaviour the call's source carries; None when the source is no sandbox token
    (nor, for an authorization, a sandbox authorization's reference)."""
    source = call.source
    if call.operation is Operation.AUTHORIZE and source.startswith("tok_"):
        name = source.removeprefix("tok_")
        return Behaviour(name) if name in _NAMES else Behaviour.OK
    if source.startswith(AUTH_PREFIX):
        name = source.removeprefix(AUTH_PREFIX).rpartition("_")[0]
        if name in _NAMES:
            return Behaviour(name)
    return None


def _reference(call: ProviderCall, behaviour: Behaviour) -> str:
    digest = hashlib.sha256(call.idempotency_key.encode()).hexdigest()[:16]
    if call.operation is Operation.AUTHORIZE:
        if call.source.startswith(AUTH_PREFIX):
            return call.source  # the shop's own sandbox authorization, adopted
        return f"{AUTH_PREFIX}{behaviour.value}_{digest}"
    return f"{_PREFIXES[call.operation]}{digest}"


def outcome(call: ProviderCall) -> Answer:
    """The answer the bank gives the first time it is asked ``call`` (pure)."""
    behaviour = behaviour_of(call)
    if behaviour is None:
        if call.operation is Operation.AUTHORIZE:
            return Answer(status="failed", failure_code="invalid_token",
                          message=f"{call.source!r} is no sandbox card token (tok_…).")
        return Answer(status="failed", failure_code="authorization_unknown",
                      message=f"{call.source!r} is no sandbox authorization.")
    reference = _reference(call, behaviour)
    refused = _REFUSED_AUTHORIZATIONS.get(behaviour)
    if call.operation is Operation.AUTHORIZE:
        if behaviour in (Behaviour.WEBHOOK, Behaviour.WEBHOOK_DECLINED):
            return Answer(status="pending", reference=reference)
        if refused is not None:
            return Answer(status="failed", reference=reference, failure_code=refused[0],
                          message=refused[1])
        return Answer(status="succeeded", reference=reference)
    if refused is not None:
        return Answer(status="failed", reference=reference, failure_code="authorization_failed",
                      message="The authorization this draws on failed.")
    if behaviour is Behaviour.WEBHOOK:
        return Answer(status="pending", reference=reference)
    return Answer(status="succeeded", reference=reference)


# --- the bank: each key performed once --------------------------------------------------------


class BankRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One operation the bank performed. ``status``: where it stands now (a pending one
    becomes final when settled); ``answer``: the first answer, given to every repeat."""

    key: str
    call: ProviderCall
    status: Literal["succeeded", "failed", "pending"]
    answer: Answer
    times_asked: int
    performed_at: dt.datetime
    failure_code: str | None = None
    message: str | None = None
    settled_at: dt.datetime | None = None

    @property
    def operation(self) -> Operation:
        return self.call.operation

    @property
    def amount(self) -> int:
        return self.call.amount

    @property
    def currency(self) -> str:
        return self.call.currency

    @property
    def reference(self) -> str | None:
        return self.answer.reference

    @property
    def repeats(self) -> int:
        return self.times_asked - 1


class KeyReused(Exception):
    """An idempotency key asked again with another call: refused, nothing performed."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def first_record(call: ProviderCall, *, now: dt.datetime) -> BankRecord:
    """What the bank records when it performs ``call`` (its key seen for the first time)."""
    answer = outcome(call)
    return BankRecord(key=call.idempotency_key, call=call, status=answer.status, answer=answer,
                      times_asked=1, performed_at=now, failure_code=answer.failure_code,
                      message=answer.message)


def asked_again(record: BankRecord, call: ProviderCall) -> BankRecord:
    """The record once ``call`` asks its key again: one more ask, nothing performed."""
    if call != record.call:
        raise KeyReused(f"The idempotency key {record.key} was used for another call "
                        f"({record.operation.value} of {record.amount} {record.currency} "
                        f"from {record.call.source}).")
    return msgspec.structs.replace(record, times_asked=record.times_asked + 1)


def settled(record: BankRecord, *, now: dt.datetime) -> BankRecord:
    """A pending operation made final, as its token says; any other one as it is."""
    if record.status != "pending":
        return record
    if behaviour_of(record.call) is Behaviour.WEBHOOK_DECLINED:
        code, message = _REFUSED_AUTHORIZATIONS[Behaviour.WEBHOOK_DECLINED]
        return msgspec.structs.replace(record, status="failed", failure_code=code,
                                       message=message, settled_at=now)
    return msgspec.structs.replace(record, status="succeeded", settled_at=now)


class Bank(abc.ABC):
    """Where sandbox operations are performed and remembered."""

    @abc.abstractmethod
    async def perform(self, call: ProviderCall) -> BankRecord:
        """Perform ``call`` the first time its key is seen; else count the repeat. Raises
        KeyReused (the key, another call) or ProviderUnavailable (no answer)."""

    @abc.abstractmethod
    async def operations(self) -> list[BankRecord]:
        """Every operation performed, oldest first."""

    @abc.abstractmethod
    async def settle(self, key: str) -> BankRecord:
        """Make the pending operation of ``key`` final; KeyError when the key is unknown."""


class MemoryBank(Bank):
    """A bank in this process's memory: gone with the process."""

    def __init__(self) -> None:
        self._records: dict[str, BankRecord] = {}

    async def perform(self, call: ProviderCall) -> BankRecord:
        found = self._records.get(call.idempotency_key)
        record = (first_record(call, now=_utcnow()) if found is None
                  else asked_again(found, call))
        self._records[record.key] = record
        return record

    async def operations(self) -> list[BankRecord]:
        return list(self._records.values())

    async def settle(self, key: str) -> BankRecord:
        record = settled(self._records[key], now=_utcnow())
        self._records[key] = record
        return record


class HttpBank(Bank):
    """A client of a sandbox bank process (``comptoir.payments.sandbox_bank``)."""

    def __init__(self, url: str, *, timeout: float = BANK_TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    async def _send(self, method: str, path: str, *, content: bytes | None = None,
                    headers: Mapping[str, str] | None = None) -> httpx.Response:
        # A client per request: nothing bound to one event loop outlives the call.
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout) as client:
                response = await client.request(method, path, content=content,
                                                 headers=headers)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"sandbox bank at {self.url}: {exc!r}") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(
                f"sandbox bank at {self.url}: {response.status_code} {response.text[:200]}")
        return response

    @staticmethod
    def _decode(response: httpx.Response, kind: type[T]) -> T:
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable(
                f"sandbox bank: unreadable answer {response.status_code}: "
                f"{response.text[:200]}") from exc

    async def perform(self, call: ProviderCall) -> BankRecord:
        response = await self._send(
            "POST", "/operations", content=msgspec.json.encode(call),
            headers={"idempotency-key": call.idempotency_key,
                     "content-type": "application/json"})
        if response.status_code == 409:
            raise KeyReused(response.text)
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"sandbox bank refused the call: {response.status_code} {response.text[:200]}")
        return self._decode(response, BankRecord)

    async def operations(self) -> list[BankRecord]:
        return self._decode(await self._send("GET", "/operations"), list[BankRecord])

    async def settle(self, key: str) -> BankRecord:
        response = await self._send("POST", f"/operations/{key}/settle")
        if response.status_code == 404:
            raise KeyError(key)
        return self._decode(response, BankRecord)


# --- webhooks ---------------------------------------------------------------------------------


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


# --- the provider -----------------------------------------------------------------------------


MEMORY_BANK = MemoryBank()  # the process's own, shared by every provider built without a URL


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
        at = _utcnow() if now is None else now
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
