"""What Comptoir reads of Stripe's objects (msgspec Structs over the SDK's), the metadata it
writes on them (our transaction, its operation, the order, a refund's lines and reason), and
Stripe's refusals as Answers."""

from __future__ import annotations

from typing import TypeVar

import msgspec
import stripe

from comptoir.payments.providers.base import Answer, ProviderCall, RefundLine

__all__ = [
    "OPERATION_KEY",
    "TRANSACTION_KEY",
    "Charge",
    "Error",
    "Event",
    "Failure",
    "Intent",
    "Refund",
    "failed_intent",
    "metadata_of",
    "read",
    "refusal",
]

TRANSACTION_KEY = "comptoir_transaction"
OPERATION_KEY = "comptoir_operation"
ORDER_KEY = "comptoir_order"
LINES_KEY = "comptoir_lines"
REASON_KEY = "comptoir_reason"
METADATA_VALUE_LIMIT = 500  # characters, Stripe's limit for one metadata value


class Failure(msgspec.Struct):
    """An error object, or a PaymentIntent's ``last_payment_error``."""

    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


class Multicapture(msgspec.Struct):
    status: str


class CardDetails(msgspec.Struct):
    multicapture: Multicapture | None = None


class PaymentMethodDetails(msgspec.Struct):
    card: CardDetails | None = None


class Refund(msgspec.Struct):
    id: str
    amount: int
    status: str | None = None
    failure_reason: str | None = None
    metadata: dict[str, str] | None = None


class RefundList(msgspec.Struct):
    data: list[Refund] = []


class Charge(msgspec.Struct):
    id: str
    payment_method_details: PaymentMethodDetails | None = None
    # Absent since API version 2022-11-15 unless expanded: refund.* events name refunds then.
    refunds: RefundList | None = None


class Intent(msgspec.Struct):
    id: str
    amount: int
    currency: str
    status: str
    amount_capturable: int = 0
    amount_received: int = 0
    metadata: dict[str, str] = {}
    last_payment_error: Failure | None = None
    cancellation_reason: str | None = None
    latest_charge: str | Charge | None = None

    @property
    def multicapture_available(self) -> bool:
        charge = self.latest_charge
        details = charge.payment_method_details if isinstance(charge, Charge) else None
        card = details.card if details is not None else None
        return (card is not None and card.multicapture is not None
                and card.multicapture.status == "available")


class Reference(msgspec.Struct):
    id: str


class Error(Failure):
    payment_intent: Reference | None = None  # the PaymentIntent a declined card left


class EventData(msgspec.Struct):
    object: msgspec.Raw


class Event(msgspec.Struct):
    id: str
    type: str
    data: EventData


T = TypeVar("T")


def read(obj: stripe.StripeObject, kind: type[T]) -> T:
    """A Stripe SDK object as the Struct that says what Comptoir reads of it."""
    return msgspec.convert(obj.to_dict(), kind)


def metadata_of(call: ProviderCall) -> dict[str, str]:
    metadata = {
        TRANSACTION_KEY: str(call.transaction_id),
        OPERATION_KEY: call.operation.value,
        ORDER_KEY: call.order_number,
    }
    if call.lines:
        metadata[LINES_KEY] = _clip(_lines_text(call.lines))
    if call.reason:
        metadata[REASON_KEY] = _clip(call.reason)
    return metadata


def _lines_text(lines: tuple[RefundLine, ...]) -> str:
    """``SKU-1 x2, SKU-2 x1``: what a refund gives back, readable in Stripe's dashboard."""
    return ", ".join(f"{line.sku} x{line.quantity}" for line in lines)


def _clip(text: str) -> str:
    if len(text) <= METADATA_VALUE_LIMIT:
        return text
    return text[:METADATA_VALUE_LIMIT - 1] + "…"


def refusal(exc: stripe.StripeError) -> Answer:
    """A refusal by Stripe (402 card declined, 400 invalid, 404 unknown) as a failed Answer,
    with the issuer's reason (``decline_code``) before Stripe's own code."""
    error = read(exc.error, Error) if exc.error is not None else Error()
    return Answer(
        status="failed",
        reference=error.payment_intent.id if error.payment_intent is not None else None,
        failure_code=error.decline_code or error.code or exc.code or "stripe_error",
        message=error.message or exc.user_message,
    )


def failed_intent(intent: Intent) -> Answer:
    failure = intent.last_payment_error or Failure()
    return Answer(status="failed", reference=intent.id,
                  failure_code=failure.decline_code or failure.code
                  or f"payment_intent_{intent.status}",
                  message=failure.message or f"The PaymentIntent is {intent.status}.")
