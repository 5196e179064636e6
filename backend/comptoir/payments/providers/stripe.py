"""Stripe as a payment provider: PaymentIntents with manual capture, refunds, signed webhooks.

What each call asks of Stripe (official ``stripe`` SDK, its async methods over httpx, so the
event loop never waits on Stripe):

- ``authorize`` with a PaymentMethod (``pm_…``) creates and confirms a PaymentIntent with
  ``capture_method=manual``: ``requires_capture`` is an authorization, ``requires_action``
  (3-D Secure) or ``processing`` a pending one, a decline a failure with the issuer's reason.
  Redirect-based methods are turned off (``allow_redirects=never``): nobody is at a browser
  when the outbox confirms. With a PaymentIntent (``pi_…``) the shop authorized itself, it is
  only read: it must await capture, in the order's currency, for at least the amount.
- ``capture`` captures ``amount_to_capture`` on the PaymentIntent. A final capture sends no
  ``final_capture`` (Stripe's default, true): Stripe releases what is left. A capture that is
  not final must leave the rest capturable, which only Stripe's multicapture does
  (``final_capture=false``, allowed when the charge says ``multicapture.status=available``):
  the PaymentIntent is read first, and without multicapture the capture fails
  (``multicapture_unavailable``) before anything is captured. Capturing anyway would release
  the rest and strand the next parcels' money; refused, the authorization stays whole and the
  next (final) capture takes what the goods that left are worth. Multicapture is asked for at
  authorization only when the account has it (``multicapture=True``, an IC+ feature).
- ``void`` cancels the PaymentIntent (what is left of the authorization is released).
- ``refund`` creates a Refund on the PaymentIntent, naming the refunded lines in its metadata.

Every write carries our transaction's idempotency key as Stripe's ``Idempotency-Key``, and our
transaction id in the object's metadata (``comptoir_transaction``, with ``comptoir_operation``
so that a webhook names the right transaction: a capture rewrites the PaymentIntent's). The
SDK does not retry by itself: no answer (network, timeout, 409, 429, 5xx) and a key Stripe
refuses (401, 403: a setting to fix) raise ProviderUnavailable, and the outbox calls again
later with the same key, which Stripe answers with its first answer. Any other refusal
(declined card, a PaymentIntent in the wrong state, an amount too large) is a failed Answer.

Webhook events followed (any other is acknowledged with no outcome):
``payment_intent.amount_capturable_updated`` (authorized, e.g. after 3-D Secure),
``payment_intent.payment_failed`` (authorization failed), ``payment_intent.succeeded``
(captured), ``payment_intent.canceled`` (released: a void, or Stripe's after 7 days),
``charge.refunded`` (each of our refunds it lists), ``refund.created``/``refund.updated``/
``refund.failed`` (a refund's end).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Literal, TypeVar

import msgspec
import stripe
from stripe.params import (
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentCreateParams,
    RefundCreateParams,
)

from comptoir.payments.providers.base import (
    Answer,
    BadWebhook,
    Operation,
    ProviderCall,
    ProviderUnavailable,
    RefundLine,
    WebhookOutcome,
)
from comptoir.settings import Settings

__all__ = ["SIGNATURE_TOLERANCE", "StripeProvider", "stripe_provider"]

TRANSACTION_KEY = "comptoir_transaction"
OPERATION_KEY = "comptoir_operation"
ORDER_KEY = "comptoir_order"
LINES_KEY = "comptoir_lines"
REASON_KEY = "comptoir_reason"
METADATA_VALUE_LIMIT = 500  # characters, Stripe's limit for one metadata value
# A signed webhook older than this is refused: a replay, not Stripe (Stripe's own default).
SIGNATURE_TOLERANCE = dt.timedelta(seconds=300)
CANCELLATION_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"})
REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


# --- what Comptoir reads of Stripe's objects -------------------------------------------------


class _Failure(msgspec.Struct):
    """An error object, or a PaymentIntent's ``last_payment_error``."""

    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


class _Multicapture(msgspec.Struct):
    status: str


class _CardDetails(msgspec.Struct):
    multicapture: _Multicapture | None = None


class _PaymentMethodDetails(msgspec.Struct):
    card: _CardDetails | None = None


class _Refund(msgspec.Struct):
    id: str
    amount: int
    status: str | None = None
    failure_reason: str | None = None
    metadata: dict[str, str] | None = None


class _RefundList(msgspec.Struct):
    data: list[_Refund] = []


class _Charge(msgspec.Struct):
    id: str
    payment_method_details: _PaymentMethodDetails | None = None
    # Absent since API version 2022-11-15 unless expanded: refund.* events name refunds then.
    refunds: _RefundList | None = None


class _Intent(msgspec.Struct):
    id: str
    amount: int
    currency: str
    status: str
    amount_capturable: int = 0
    amount_received: int = 0
    metadata: dict[str, str] = {}
    last_payment_error: _Failure | None = None
    cancellation_reason: str | None = None
    latest_charge: str | _Charge | None = None

    @property
    def multicapture_available(self) -> bool:
        charge = self.latest_charge
        details = charge.payment_method_details if isinstance(charge, _Charge) else None
        card = details.card if details is not None else None
        return (card is not None and card.multicapture is not None
                and card.multicapture.status == "available")


class _Reference(msgspec.Struct):
    id: str


class _Error(_Failure):
    payment_intent: _Reference | None = None  # the PaymentIntent a declined card left


class _EventData(msgspec.Struct):
    object: msgspec.Raw


class _Event(msgspec.Struct):
    id: str
    type: str
    data: _EventData


_T = TypeVar("_T")


def _read(obj: stripe.StripeObject, kind: type[_T]) -> _T:
    """A Stripe SDK object as the Struct that says what Comptoir reads of it."""
    return msgspec.convert(obj.to_dict(), kind)


# --- the provider ------------------------------------------------------------------------------


class StripeProvider:
    """Payments through one Stripe account.

    ``http_client``: how the SDK reaches Stripe (default: its httpx client with ``timeout``
    seconds per request); ``api_base``: another address for Stripe's API (stripe-mock);
    ``multicapture``: ask for multicapture at authorization (accounts on IC+ pricing)."""

    name = "stripe"

    def __init__(self, secret_key: str, webhook_secret: str, *,
                 http_client: stripe.HTTPClient | None = None, api_base: str | None = None,
                 timeout: float = 30.0, multicapture: bool = False) -> None:
        self._http = http_client or stripe.HTTPXClient(timeout=timeout)
        self._stripe = stripe.StripeClient(
            secret_key, http_client=self._http, max_network_retries=0,
            base_addresses={"api": api_base} if api_base else None,
        )
        self._webhook_secret = webhook_secret
        self._multicapture = multicapture

    async def close(self) -> None:
        """Close the HTTP client's connections (at shutdown)."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK

    async def call(self, call: ProviderCall) -> Answer:
        try:
            match call.operation:
                case Operation.AUTHORIZE if call.source.startswith("pi_"):
                    return await self._check_shop_authorization(call)
                case Operation.AUTHORIZE:
                    return await self._authorize(call)
                case Operation.CAPTURE:
                    return await self._capture(call)
                case Operation.VOID:
                    return await self._void(call)
                case Operation.REFUND:
                    return await self._refund(call)
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise ProviderUnavailable(f"Stripe did not answer: {exc.user_message}") from exc
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            raise ProviderUnavailable(
                f"Stripe refused Comptoir's key (COMPTOIR_STRIPE_SECRET_KEY): {exc.user_message}"
            ) from exc
        except stripe.StripeError as exc:
            return _refusal(exc)

    async def _authorize(self, call: ProviderCall) -> Answer:
        if not call.source.startswith("pm_"):
            return Answer(status="failed", failure_code="stripe_source_unsupported",
                          message="Stripe authorizes a PaymentMethod (pm_…) or accepts the "
                                  "shop's own PaymentIntent (pi_…); this source is neither.")
        params: PaymentIntentCreateParams = {
            "amount": call.amount,
            "currency": call.currency.lower(),
            "payment_method": call.source,
            "capture_method": "manual",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "description": f"Order {call.order_number}",
            "metadata": _metadata(call),
        }
        if self._multicapture:
            params["payment_method_options"] = {"card": {"request_multicapture": "if_available"}}
        intent = _read(await self._stripe.v1.payment_intents.create_async(
            params, {"idempotency_key": call.idempotency_key}), _Intent)
        match intent.status:
            case "requires_capture":
                return Answer(status="succeeded", reference=intent.id)
            case "requires_action" | "processing":
                return Answer(status="pending", reference=intent.id)
            case _:
                return _failed_intent(intent)

    async def _check_shop_authorization(self, call: ProviderCall) -> Answer:
        intent = _read(await self._stripe.v1.payment_intents.retrieve_async(call.source),
                       _Intent)
        if intent.status != "requires_capture":
            return Answer(status="failed", reference=intent.id,
                          failure_code="authorization_not_capturable",
                          message=f"The shop's PaymentIntent {intent.id} is {intent.status}, "
                                  "not awaiting capture (requires_capture).")
        if intent.currency != call.currency.lower():
            return Answer(status="failed", reference=intent.id,
                          failure_code="authorization_currency_mismatch",
                          message=f"The shop's PaymentIntent {intent.id} is in "
                                  f"{intent.currency.upper()}, the order in "
                                  f"{call.currency.upper()}.")
        if intent.amount_capturable < call.amount:
            return Answer(status="failed", reference=intent.id,
                          failure_code="authorization_amount_too_low",
                          message=f"The shop's PaymentIntent {intent.id} holds "
                                  f"{intent.amount_capturable}, less than the {call.amount} "
                                  "asked.")
        return Answer(status="succeeded", reference=intent.id)

    async def _capture(self, call: ProviderCall) -> Answer:
        params: PaymentIntentCaptureParams = {
            "amount_to_capture": call.amount,
            "metadata": _metadata(call),
        }
        if not call.final:
            intent = _read(await self._stripe.v1.payment_intents.retrieve_async(
                call.source, {"expand": ["latest_charge"]}), _Intent)
            if not intent.multicapture_available:
                return Answer(status="failed", reference=intent.id,
                              failure_code="multicapture_unavailable",
                              message="Stripe can capture this payment only once (no "
                                      "multicapture): nothing was captured, so that the last "
                                      "capture can take all the goods are worth.")
            params["final_capture"] = False
        intent = _read(await self._stripe.v1.payment_intents.capture_async(
            call.source, params, {"idempotency_key": call.idempotency_key}), _Intent)
        match intent.status:
            case "succeeded" | "requires_capture":  # the latter: captured, the rest kept
                return Answer(status="succeeded", reference=intent.id)
            case "processing":
                return Answer(status="pending", reference=intent.id)
            case _:
                return _failed_intent(intent)

    async def _void(self, call: ProviderCall) -> Answer:
        """Cancel the PaymentIntent. One already captured for the last time has nothing left
        to cancel: Stripe released the rest at that capture, which is what the void asked."""
        params: PaymentIntentCancelParams = {
            "cancellation_reason": call.reason if call.reason in CANCELLATION_REASONS
            else "requested_by_customer",
        }
        try:
            intent = _read(await self._stripe.v1.payment_intents.cancel_async(
                call.source, params, {"idempotency_key": call.idempotency_key}), _Intent)
        except stripe.InvalidRequestError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise
            intent = _read(await self._stripe.v1.payment_intents.retrieve_async(call.source),
                           _Intent)
            if intent.status == "succeeded" and intent.amount_capturable == 0:
                return Answer(status="succeeded", reference=intent.id,
                              message="Released by Stripe at the final capture.")
            raise
        if intent.status == "canceled":
            return Answer(status="succeeded", reference=intent.id)
        return _failed_intent(intent)

    async def _refund(self, call: ProviderCall) -> Answer:
        params: RefundCreateParams = {
            "payment_intent": call.source,
            "amount": call.amount,
            "metadata": _metadata(call),
        }
        if call.reason in REFUND_REASONS:
            params["reason"] = call.reason
        refund = _read(await self._stripe.v1.refunds.create_async(
            params, {"idempotency_key": call.idempotency_key}), _Refund)
        match refund.status:
            case "succeeded":
                return Answer(status="succeeded", reference=refund.id)
            case "failed" | "canceled":
                return Answer(status="failed", reference=refund.id,
                              failure_code=refund.failure_reason or f"refund_{refund.status}")
            case _:  # pending, requires_action: refund.updated tells the end
                return Answer(status="pending", reference=refund.id)

    # --- webhooks ------------------------------------------------------------------------------

    def webhook(self, body: bytes, headers: Mapping[str, str], *,
                now: dt.datetime) -> list[WebhookOutcome]:
        """The outcomes a Stripe event reports; BadWebhook when its ``Stripe-Signature`` is
        missing, wrong or signed more than SIGNATURE_TOLERANCE before ``now``, or the body
        is not an event. An event Comptoir does not follow gives no outcome."""
        event = self._verified_event(body, headers, now=now)
        try:
            return _outcomes(event)
        except msgspec.ValidationError as exc:
            raise BadWebhook(f"Stripe event {event.id} ({event.type}): {exc}") from exc

    def _verified_event(self, body: bytes, headers: Mapping[str, str], *,
                        now: dt.datetime) -> _Event:
        header = next((value for name, value in headers.items()
                       if name.lower() == "stripe-signature"), None)
        try:
            # tolerance=None: the SDK would check the age against the wall clock; ``now`` here.
            stripe.WebhookSignature.verify_header(body, header, self._webhook_secret,
                                                  tolerance=None)
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise BadWebhook(f"Not signed by Stripe: {exc}") from exc
        assert header is not None  # verify_header refuses a missing one
        signed_at = _signed_at(header)
        if now.timestamp() - signed_at > SIGNATURE_TOLERANCE.total_seconds():
            raise BadWebhook(f"Signed at {signed_at}, more than "
                             f"{SIGNATURE_TOLERANCE.total_seconds():.0f} s ago: a replay.")
        try:
            return msgspec.json.decode(body, type=_Event)
        except msgspec.DecodeError as exc:  # ValidationError included
            raise BadWebhook(f"Not a Stripe event: {exc}") from exc


def stripe_provider(settings: Settings) -> StripeProvider | None:
    """The Stripe provider the settings configure; None without a secret key."""
    if not settings.stripe_secret_key:
        return None
    return StripeProvider(settings.stripe_secret_key, settings.stripe_webhook_secret)


# --- mapping -------------------------------------------------------------------------------------


def _metadata(call: ProviderCall) -> dict[str, str]:
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


def _refusal(exc: stripe.StripeError) -> Answer:
    """A refusal by Stripe (402 card declined, 400 invalid, 404 unknown) as a failed Answer,
    with the issuer's reason (``decline_code``) before Stripe's own code."""
    error = _read(exc.error, _Error) if exc.error is not None else _Error()
    return Answer(
        status="failed",
        reference=error.payment_intent.id if error.payment_intent is not None else None,
        failure_code=error.decline_code or error.code or exc.code or "stripe_error",
        message=error.message or exc.user_message,
    )


def _failed_intent(intent: _Intent) -> Answer:
    failure = intent.last_payment_error or _Failure()
    return Answer(status="failed", reference=intent.id,
                  failure_code=failure.decline_code or failure.code
                  or f"payment_intent_{intent.status}",
                  message=failure.message or f"The PaymentIntent is {intent.status}.")


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


def _about(intent: _Intent, operation: Operation, status: Literal["succeeded", "failed"], *,
           amount: int | None = None, failure: _Failure | None = None) -> WebhookOutcome:
    return WebhookOutcome(
        transaction_id=_ours(intent.metadata, operation), reference=intent.id,
        operation=operation, status=status, amount=amount,
        failure_code=(failure.decline_code or failure.code) if failure else None,
        message=failure.message if failure else None,
    )


def _refund_outcomes(refund: _Refund) -> list[WebhookOutcome]:
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


def _outcomes(event: _Event) -> list[WebhookOutcome]:
    """What one event says happened. A PaymentIntent's metadata names our transaction only
    for the operation that wrote it last (``comptoir_operation``); otherwise the outcome
    names the PaymentIntent (``reference``) and the operation."""
    raw = event.data.object
    match event.type:
        case "payment_intent.amount_capturable_updated":
            intent = msgspec.json.decode(raw, type=_Intent)
            if intent.status != "requires_capture" or intent.amount_received:
                return []  # a partial capture (multicapture) lowered it: not an authorization
            return [_about(intent, Operation.AUTHORIZE, "succeeded",
                           amount=intent.amount_capturable)]
        case "payment_intent.payment_failed":
            intent = msgspec.json.decode(raw, type=_Intent)
            return [_about(intent, Operation.AUTHORIZE, "failed",
                           failure=intent.last_payment_error or _Failure())]
        case "payment_intent.succeeded":
            # amount_received adds up every capture of the intent: not this capture's amount.
            return [_about(msgspec.json.decode(raw, type=_Intent), Operation.CAPTURE,
                           "succeeded")]
        case "payment_intent.canceled":
            intent = msgspec.json.decode(raw, type=_Intent)
            # Our void, or Stripe's after 7 days (automatic): the authorization is released.
            return [WebhookOutcome(
                transaction_id=None, reference=intent.id, operation=Operation.VOID,
                status="succeeded",
                message=f"Cancelled on Stripe ({intent.cancellation_reason or 'no reason'}).",
            )]
        case "charge.refunded":
            charge = msgspec.json.decode(raw, type=_Charge)
            refunds = charge.refunds.data if charge.refunds is not None else []
            return [outcome for refund in refunds
                    if _ours(refund.metadata, Operation.REFUND) is not None
                    for outcome in _refund_outcomes(refund)]
        case "refund.created" | "refund.updated" | "refund.failed":
            return _refund_outcomes(msgspec.json.decode(raw, type=_Refund))
        case _:
            return []
