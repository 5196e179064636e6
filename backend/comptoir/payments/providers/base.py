"""What Comptoir asks of a payment provider, and what it hears back.

A provider is called only from the outbox (payments/calls.py), never while an order is
captured or shipped: a call carries our transaction's id, from which its idempotency key is
derived, so the call the outbox repeats after a crash or a timeout is the same call to the
provider, performed once. An answer is final (``succeeded``/``failed``) or ``pending``: the
outcome then comes later through the provider's webhook, read by ``webhook``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Literal, Protocol

import msgspec

__all__ = [
    "Answer",
    "BadWebhook",
    "Operation",
    "PaymentProvider",
    "ProviderCall",
    "ProviderUnavailable",
    "RefundLine",
    "WebhookOutcome",
]


class Operation(StrEnum):
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class RefundLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line a refund names (payment methods like Klarna want them)."""

    sku: str
    name: str
    quantity: int
    amount: int  # minor units, tax included


class ProviderCall(msgspec.Struct, frozen=True, kw_only=True):
    """One operation asked of a provider.

    ``source``: for ``authorize``, the card token or the authorization the shop made
    itself (a Stripe PaymentIntent id); for ``capture`` and ``void``, the provider's
    reference of the authorization; for ``refund``, the provider's reference of the
    authorization the refunded capture drew on. ``final``: a capture after which nothing
    more will be captured (the provider releases the rest)."""

    transaction_id: uuid.UUID
    operation: Operation
    amount: int
    currency: str
    order_number: str
    source: str
    final: bool = False
    reason: str | None = None
    lines: tuple[RefundLine, ...] = ()

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt of this transaction, never for another one."""
        return f"comptoir-{self.transaction_id}"


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's answer to a call. ``reference``: its id for what it did (a
    PaymentIntent, a refund), kept with the transaction."""

    status: Literal["succeeded", "failed", "pending"]
    reference: str | None = None
    failure_code: str | None = None  # "card_declined", "insufficient_funds"…
    message: str | None = None


class WebhookOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a provider's webhook says happened to one of our transactions.

    It names the transaction by our id when the provider echoes it back (metadata), else
    by the provider's reference of the operation and its kind."""

    transaction_id: uuid.UUID | None
    reference: str | None
    operation: Operation
    status: Literal["succeeded", "failed"]
    amount: int | None = None
    failure_code: str | None = None
    message: str | None = None


class ProviderUnavailable(Exception):
    """No answer (timeout, network, a 5xx): the outbox calls again later, same key."""


class BadWebhook(Exception):
    """A webhook that is not the provider's: bad or old signature, unreadable body."""


class PaymentProvider(Protocol):
    """One provider. ``call`` raises ProviderUnavailable when it heard no answer; a
    refusal by the provider (declined card…) is an Answer with status ``failed``."""

    name: str

    async def call(self, call: ProviderCall) -> Answer: ...

    def webhook(self, body: bytes, headers: Mapping[str, str], *,
                now: dt.datetime) -> list[WebhookOutcome]:
        """The outcomes a webhook body reports; BadWebhook when it is not the provider's
        (``headers`` with lower-case names)."""
        ...
