"""Stripe's webhooks: the ``Stripe-Signature`` checked (against ``now``, so that tests can
sign old bodies), and what each followed event says happened to our transactions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Literal

import msgspec
import stripe

from comptoir.payments.providers.base import BadWebhook, Operation, WebhookOutcome
from comptoir.payments.providers.stripe_objects import (
    OPERATION_KEY,
    TRANSACTION_KEY,
    Charge,
    Event,
    Failure,
    Intent,
    Refund,
)

__all__ = ["SIGNATURE_TOLERANCE", "outcomes", "verified_event"]

# A signed webhook older than this is refused: a replay, not Stripe (Stripe's own default).
SIGNATURE_TOLERANCE = dt.timedelta(seconds=300)


def verified_event(body: bytes, headers: Mapping[str, str], *, secret: str,
                   now: dt.datetime) -> Event:
    """The event, once its signature is Stripe's and recent; BadWebhook otherwise."""
    header = next((value for name, value in headers.items()
                   if name.lower() == "stripe-signature"), None)
    try:
        # tolerance=None: the SDK would check the age against the wall clock; ``now`` here.
        stripe.WebhookSignature.verify_header(body, header, secret, tolerance=None)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise BadWebhook(f"Not signed by Stripe: {exc}") from exc
    assert header is not None  # verify_header refuses a missing one
    signed_at = _signed_at(header)
    if now.timestamp() - signed_at > SIGNATURE_TOLERANCE.total_seconds():
        raise BadWebhook(f"Signed at {signed_at}, more than "
                         f"{SIGNATURE_TOLERANCE.total_seconds():.0f} s ago: a replay.")
    try:
        return msgspec.json.decode(body, type=Event)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise BadWebhook(f"Not a Stripe event: {exc}") from exc


def _signed_at(header: str) -> int:
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "t":
            return int(value)
    raise BadWebhook("Stripe-Signature has no timestamp.")  # verify_header refuses it first


def _ours(metadata: Mapping[str, str] | None, operation: Operation) -> uuid.UUID | None:
    """Our transaction, when the metadata names one for this operation."""
    if not metadata or metadata.get(OPERATION_KEY) != operation.value:
        return None
    try:
        return uuid.UUID(metadata[TRANSACTION_KEY])
    except (KeyError, ValueError):
        return None


def _about(intent: Intent, operation: Operation, status: Literal["succeeded", "failed"], *,
           amount: int | None = None, failure: Failure | None = None) -> WebhookOutcome:
    return WebhookOutcome(
        transaction_id=_ours(intent.metadata, operation), reference=intent.id,
        operation=operation, status=status, amount=amount,
        failure_code=(failure.decline_code or failure.code) if failure else None,
        message=failure.message if failure else None,
    )


def _refund_outcomes(refund: Refund) -> list[WebhookOutcome]:
    match refund.status:
        case "succeeded":
            status: Literal["succeeded", "failed"] = "succeeded"
        case "failed" | "canceled":
            status = "failed"
        case _:  # pending, requires_action: not an end yet
            return []
    return [WebhookOutcome(
        transaction_id=_ours(refund.metadata, Operation.REFUND), reference=refund.id,
        operation=Operation.REFUND, status=status, amount=refund.amount,
        failure_code=(refund.failure_reason or f"refund_{refund.status}")
        if status == "failed" else None,
    )]


def outcomes(event: Event) -> list[WebhookOutcome]:
    """What one event says happened. A PaymentIntent's metadata names our transaction only
    for the operation that wrote it last (``comptoir_operation``); otherwise the outcome
    names the PaymentIntent (``reference``) and the operation."""
    raw = event.data.object
    match event.type:
        case "payment_intent.amount_capturable_updated":
            intent = msgspec.json.decode(raw, type=Intent)
            if intent.status != "requires_capture" or intent.amount_received:
                return []  # a partial capture (multicapture) lowered it: not an authorization
            return [_about(intent, Operation.AUTHORIZE, "succeeded",
                           amount=intent.amount_capturable)]
        case "payment_intent.payment_failed":
            intent = msgspec.json.decode(raw, type=Intent)
            return [_about(intent, Operation.AUTHORIZE, "failed",
                           failure=intent.last_payment_error or Failure())]
        case "payment_intent.succeeded":
            # amount_received adds up every capture of the intent: not this capture's amount.
            return [_about(msgspec.json.decode(raw, type=Intent), Operation.CAPTURE,
                           "succeeded")]
        case "payment_intent.canceled":
            intent = msgspec.json.decode(raw, type=Intent)
            # Our void, or Stripe's after 7 days (automatic): the authorization is released.
            return [WebhookOutcome(
                transaction_id=None, reference=intent.id, operation=Operation.VOID,
                status="succeeded",
                message=f"Cancelled on Stripe ({intent.cancellation_reason or 'no reason'}).",
            )]
        case "charge.refunded":
            charge = msgspec.json.decode(raw, type=Charge)
            refunds = charge.refunds.data if charge.refunds is not None else []
            return [outcome for refund in refunds
                    if _ours(refund.metadata, Operation.REFUND) is not None
                    for outcome in _refund_outcomes(refund)]
        case "refund.created" | "refund.updated" | "refund.failed":
            return _refund_outcomes(msgspec.json.decode(raw, type=Refund))
        case _:
            return []
