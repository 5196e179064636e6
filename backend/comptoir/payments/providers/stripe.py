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
from collections.abc import Mapping

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
    WebhookOutcome,
)
from comptoir.payments.providers.stripe_objects import (
    Intent,
    Refund,
    failed_intent,
    metadata_of,
    read,
    refusal,
)
from comptoir.payments.providers.stripe_webhooks import (
    SIGNATURE_TOLERANCE,
    outcomes,
    verified_event,
)
from comptoir.settings import Settings

__all__ = ["SIGNATURE_TOLERANCE", "StripeProvider", "stripe_provider"]

CANCELLATION_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"})
REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


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
            return refusal(exc)

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
            "metadata": metadata_of(call),
        }
        if self._multicapture:
            params["payment_method_options"] = {"card": {"request_multicapture": "if_available"}}
        intent = read(await self._stripe.v1.payment_intents.create_async(
            params, {"idempotency_key": call.idempotency_key}), Intent)
        match intent.status:
            case "requires_capture":
                return Answer(status="succeeded", reference=intent.id)
            case "requires_action" | "processing":
                return Answer(status="pending", reference=intent.id)
            case _:
                return failed_intent(intent)

    async def _check_shop_authorization(self, call: ProviderCall) -> Answer:
        intent = read(await self._stripe.v1.payment_intents.retrieve_async(call.source),
                       Intent)
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
            "metadata": metadata_of(call),
        }
        if not call.final:
            intent = read(await self._stripe.v1.payment_intents.retrieve_async(
                call.source, {"expand": ["latest_charge"]}), Intent)
            if not intent.multicapture_available:
                return Answer(status="failed", reference=intent.id,
                              failure_code="multicapture_unavailable",
                              message="Stripe can capture this payment only once (no "
                                      "multicapture): nothing was captured, so that the last "
                                      "capture can take all the goods are worth.")
            params["final_capture"] = False
        intent = read(await self._stripe.v1.payment_intents.capture_async(
            call.source, params, {"idempotency_key": call.idempotency_key}), Intent)
        match intent.status:
            case "succeeded" | "requires_capture":  # the latter: captured, the rest kept
                return Answer(status="succeeded", reference=intent.id)
            case "processing":
                return Answer(status="pending", reference=intent.id)
            case _:
                return failed_intent(intent)

    async def _void(self, call: ProviderCall) -> Answer:
        """Cancel the PaymentIntent. One already captured for the last time has nothing left
        to cancel: Stripe released the rest at that capture, which is what the void asked."""
        params: PaymentIntentCancelParams = {
            "cancellation_reason": call.reason if call.reason in CANCELLATION_REASONS
            else "requested_by_customer",
        }
        try:
            intent = read(await self._stripe.v1.payment_intents.cancel_async(
                call.source, params, {"idempotency_key": call.idempotency_key}), Intent)
        except stripe.InvalidRequestError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise
            intent = read(await self._stripe.v1.payment_intents.retrieve_async(call.source),
                           Intent)
            if intent.status == "succeeded" and intent.amount_capturable == 0:
                return Answer(status="succeeded", reference=intent.id,
                              message="Released by Stripe at the final capture.")
            raise
        if intent.status == "canceled":
            return Answer(status="succeeded", reference=intent.id)
        return failed_intent(intent)

    async def _refund(self, call: ProviderCall) -> Answer:
        params: RefundCreateParams = {
            "payment_intent": call.source,
            "amount": call.amount,
            "metadata": metadata_of(call),
        }
        if call.reason in REFUND_REASONS:
            params["reason"] = call.reason
        refund = read(await self._stripe.v1.refunds.create_async(
            params, {"idempotency_key": call.idempotency_key}), Refund)
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
        event = verified_event(body, headers, secret=self._webhook_secret, now=now)
        try:
            return outcomes(event)
        except msgspec.ValidationError as exc:
            raise BadWebhook(f"Stripe event {event.id} ({event.type}): {exc}") from exc


def stripe_provider(settings: Settings) -> StripeProvider | None:
    """The Stripe provider the settings configure; None without a secret key."""
    if not settings.stripe_secret_key:
        return None
    return StripeProvider(settings.stripe_secret_key, settings.stripe_webhook_secret)
