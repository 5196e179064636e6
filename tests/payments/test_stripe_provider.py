"""The Stripe provider against Stripe's recorded answers and locally signed webhooks: no network.

Each API test names the requests Stripe must receive (method, path, form or query
parameters, Idempotency-Key) and serves each its recorded answer (``recordings/stripe/``);
a request not expected, or one expected and not made, fails the test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe

from comptoir.payments.providers.base import (
    Answer,
    BadWebhook,
    Operation,
    PaymentProvider,
    ProviderCall,
    ProviderUnavailable,
    RefundLine,
    WebhookOutcome,
)
from comptoir.payments.providers.stripe import StripeProvider, stripe_provider
from comptoir.settings import Settings

RECORDINGS = Path(__file__).parent / "recordings" / "stripe"
SECRET_KEY = "sk_test_51PqR8sLkdIwHu7ixComptoirRecordedAnswers"
WEBHOOK_SECRET = "whsec_4f1c2b7a9e0d8c6b5a4f3e2d1c0b9a8f"
ORDER = "CMP-2026-000123"
PI = "pi_3QhT9cLkdIwHu7ix0uKc8aLm"
SHOP_PI = "pi_3QhS2bLkdIwHu7ix1nZx4Tq0"
PM = "pm_1QhT9aLkdIwHu7ixVb3sJ0cD"
REFUND_ID = "re_3QhT9cLkdIwHu7ix0QbV2nXh"
AUTHORIZATION = uuid.UUID("0193a5c2-7d4e-7a10-9c55-3f1e2b7a1a01")
CAPTURE = uuid.UUID("0193a5c2-7d4e-7a10-9c55-3f1e2b7a1a02")
VOID = uuid.UUID("0193a5c2-7d4e-7a10-9c55-3f1e2b7a1a03")
REFUND = uuid.UUID("0193a5c2-7d4e-7a10-9c55-3f1e2b7a1a04")
NOW = dt.datetime(2026, 12, 13, 9, 30, tzinfo=dt.UTC)


# --- Stripe's API, as recorded ----------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One request Stripe must receive, and what it answers: a recording, or a transport
    failure raised in its place."""

    method: str
    path: str
    params: dict[str, str]
    answer: str | Exception
    status: int = 200
    idempotency_key: str | None = None


class RecordedStripe(stripe.HTTPClient):
    """The SDK's HTTP client, replaced: checks each request against the next expected one."""

    name = "recorded"

    def __init__(self, expected: list[Exchange]) -> None:
        super().__init__()
        self.expected = expected

    async def request_async(self, method: str, url: str, headers: Mapping[str, str],
                            post_data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        parts = urlsplit(url)
        assert self.expected, f"Stripe received an unexpected request: {method} {url}"
        exchange = self.expected.pop(0)
        assert parts.netloc == "api.stripe.com"
        assert (method, parts.path) == (exchange.method, exchange.path)
        sent = post_data if method == "post" else parts.query
        assert dict(parse_qsl(sent or "", keep_blank_values=True)) == exchange.params
        assert headers.get("Idempotency-Key") == exchange.idempotency_key
        assert headers["Authorization"] == f"Bearer {SECRET_KEY}"
        if isinstance(exchange.answer, Exception):
            raise exchange.answer
        body = (RECORDINGS / exchange.answer).read_bytes()
        return body, exchange.status, {"Request-Id": "req_recorded", "Content-Type":
                                       "application/json"}

    async def close_async(self) -> None:
        pass


@contextmanager
def stripe_answering(*exchanges: Exchange) -> Iterator[StripeProvider]:
    recorded = RecordedStripe(list(exchanges))
    yield StripeProvider(SECRET_KEY, WEBHOOK_SECRET, http_client=recorded)
    assert not recorded.expected, f"Stripe never received {recorded.expected[0]}"


def ask(operation: Operation, transaction: uuid.UUID, *, amount: int = 12990,
        source: str = PI, final: bool = False, reason: str | None = None,
        lines: tuple[RefundLine, ...] = ()) -> ProviderCall:
    return ProviderCall(transaction_id=transaction, operation=operation, amount=amount,
                        currency="EUR", order_number=ORDER, source=source, final=final,
                        reason=reason, lines=lines)


def metadata(operation: str, transaction: uuid.UUID) -> dict[str, str]:
    return {"metadata[comptoir_transaction]": str(transaction),
            "metadata[comptoir_operation]": operation,
            "metadata[comptoir_order]": ORDER}


def key(transaction: uuid.UUID) -> str:
    return f"comptoir-{transaction}"


AUTHORIZE_PARAMS = {
    "amount": "12990",
    "currency": "eur",
    "payment_method": PM,
    "capture_method": "manual",
    "confirm": "true",
    "automatic_payment_methods[enabled]": "true",
    "automatic_payment_methods[allow_redirects]": "never",
    "description": f"Order {ORDER}",
    **metadata("authorize", AUTHORIZATION),
}


def authorizing(answer: str, status: int = 200) -> Exchange:
    return Exchange("post", "/v1/payment_intents", AUTHORIZE_PARAMS, answer, status,
                    idempotency_key=key(AUTHORIZATION))


# --- authorize ------------------------------------------------------------------------------------


async def test_a_card_authorized_for_later_capture_is_a_succeeded_authorization() -> None:
    with stripe_answering(authorizing("payment_intent_authorized.json")) as provider:
        answer = await provider.call(ask(Operation.AUTHORIZE, AUTHORIZATION, source=PM))
    assert answer == Answer(status="succeeded", reference=PI)


async def test_a_card_asking_for_3d_secure_leaves_the_authorization_pending() -> None:
    with stripe_answering(authorizing("payment_intent_requires_action.json")) as provider:
        answer = await provider.call(ask(Operation.AUTHORIZE, AUTHORIZATION, source=PM))
    assert answer == Answer(status="pending", reference=PI)


async def test_a_declined_card_is_a_failed_authorization_with_the_issuers_reason() -> None:
    with stripe_answering(authorizing("error_card_declined.json", 402)) as provider:
        answer = await provider.call(ask(Operation.AUTHORIZE, AUTHORIZATION, source=PM))
    assert answer == Answer(status="failed", reference=PI, failure_code="insufficient_funds",
                            message="Your card has insufficient funds.")


async def test_multicapture_is_asked_for_at_authorization_when_the_account_has_it() -> None:
    asked = Exchange("post", "/v1/payment_intents",
                     {**AUTHORIZE_PARAMS,
                      "payment_method_options[card][request_multicapture]": "if_available"},
                     "payment_intent_authorized.json", idempotency_key=key(AUTHORIZATION))
    recorded = RecordedStripe([asked])
    provider = StripeProvider(SECRET_KEY, WEBHOOK_SECRET, http_client=recorded,
                              multicapture=True)
    answer = await provider.call(ask(Operation.AUTHORIZE, AUTHORIZATION, source=PM))
    assert answer.status == "succeeded" and not recorded.expected


async def test_an_authorization_the_shop_made_itself_is_read_not_made_again() -> None:
    reading = Exchange("get", f"/v1/payment_intents/{SHOP_PI}", {},
                       "payment_intent_shop_authorized.json")
    with stripe_answering(reading) as provider:
        answer = await provider.call(ask(Operation.AUTHORIZE, AUTHORIZATION, source=SHOP_PI))
    assert answer == Answer(status="succeeded", reference=SHOP_PI)


@pytest.mark.parametrize(
    ("recording", "amount", "currency", "code"),
    [
        ("payment_intent_shop_captured.json", 12990, "EUR", "authorization_not_capturable"),
        ("payment_intent_shop_authorized.json", 15000, "EUR", "authorization_amount_too_low"),
        ("payment_intent_shop_authorized.json", 12990, "USD", "authorization_currency_mismatch"),
    ],
)
async def test_a_shop_authorization_that_cannot_pay_the_order_is_refused(
    recording: str, amount: int, currency: str, code: str
) -> None:
    reading = Exchange("get", f"/v1/payment_intents/{SHOP_PI}", {}, recording)
    with stripe_answering(reading) as provider:
        answer = await provider.call(ProviderCall(
            transaction_id=AUTHORIZATION, operation=Operation.AUTHORIZE, amount=amount,
            currency=currency, order_number=ORDER, source=SHOP_PI))
    assert (answer.status, answer.reference, answer.failure_code) == ("failed", SHOP_PI, code)
    assert answer.message and SHOP_PI in answer.message


async def test_a_source_stripe_cannot_authorize_is_refused_without_asking_stripe() -> None:
    with stripe_answering() as provider:
        answer = await provider.call(ask(Operation.AUTHORIZE, AUTHORIZATION, source="tok_visa"))
    assert (answer.status, answer.failure_code) == ("failed", "stripe_source_unsupported")


# --- capture, void, refund -------------------------------------------------------------------


async def test_a_final_partial_capture_takes_the_amount_and_lets_stripe_release_the_rest() -> None:
    capturing = Exchange("post", f"/v1/payment_intents/{PI}/capture",
                         {"amount_to_capture": "8000", **metadata("capture", CAPTURE)},
                         "payment_intent_captured_partially.json",
                         idempotency_key=key(CAPTURE))
    with stripe_answering(capturing) as provider:
        answer = await provider.call(ask(Operation.CAPTURE, CAPTURE, amount=8000, final=True))
    assert answer == Answer(status="succeeded", reference=PI)


async def test_a_capture_that_is_not_final_keeps_the_rest_when_multicapture_is_available() -> None:
    reading = Exchange("get", f"/v1/payment_intents/{PI}", {"expand[0]": "latest_charge"},
                       "payment_intent_multicapture_available.json")
    capturing = Exchange("post", f"/v1/payment_intents/{PI}/capture",
                         {"amount_to_capture": "8000", "final_capture": "false",
                          **metadata("capture", CAPTURE)},
                         "payment_intent_captured_once_of_several.json",
                         idempotency_key=key(CAPTURE))
    with stripe_answering(reading, capturing) as provider:
        answer = await provider.call(ask(Operation.CAPTURE, CAPTURE, amount=8000, final=False))
    assert answer == Answer(status="succeeded", reference=PI)


async def test_a_capture_that_is_not_final_captures_nothing_without_multicapture() -> None:
    reading = Exchange("get", f"/v1/payment_intents/{PI}", {"expand[0]": "latest_charge"},
                       "payment_intent_multicapture_unavailable.json")
    with stripe_answering(reading) as provider:  # and no capture request
        answer = await provider.call(ask(Operation.CAPTURE, CAPTURE, amount=8000, final=False))
    assert (answer.status, answer.reference, answer.failure_code) == (
        "failed", PI, "multicapture_unavailable")


async def test_a_capture_stripe_refuses_is_a_failed_capture_with_stripes_code() -> None:
    capturing = Exchange("post", f"/v1/payment_intents/{PI}/capture",
                         {"amount_to_capture": "8000", **metadata("capture", CAPTURE)},
                         "error_payment_intent_unexpected_state.json", 400,
                         idempotency_key=key(CAPTURE))
    with stripe_answering(capturing) as provider:
        answer = await provider.call(ask(Operation.CAPTURE, CAPTURE, amount=8000, final=True))
    assert (answer.status, answer.reference, answer.failure_code) == (
        "failed", PI, "payment_intent_unexpected_state")
    assert answer.message and "status of canceled" in answer.message


async def test_a_void_cancels_the_payment_intent() -> None:
    cancelling = Exchange("post", f"/v1/payment_intents/{PI}/cancel",
                          {"cancellation_reason": "requested_by_customer"},
                          "payment_intent_canceled.json", idempotency_key=key(VOID))
    with stripe_answering(cancelling) as provider:
        answer = await provider.call(ask(Operation.VOID, VOID, amount=4990,
                                         reason="Lines cancelled: out of stock"))
    assert answer == Answer(status="succeeded", reference=PI)


async def test_a_partial_refund_names_its_lines_and_our_transaction_in_the_refund() -> None:
    lines = (RefundLine(sku="TSHIRT-BIO-M-BLEU", name="T-shirt bio bleu M", quantity=1,
                        amount=1990),
             RefundLine(sku="CHAUSS-LAINE-42", name="Chaussettes laine 42", quantity=2,
                        amount=1500))
    refunding = Exchange("post", "/v1/refunds",
                         {"payment_intent": PI, "amount": "3490",
                          **metadata("refund", REFUND),
                          "metadata[comptoir_lines]": "TSHIRT-BIO-M-BLEU x1, CHAUSS-LAINE-42 x2",
                          "metadata[comptoir_reason]": "Retour RMA-2026-000031"},
                         "refund_partial.json", idempotency_key=key(REFUND))
    with stripe_answering(refunding) as provider:
        answer = await provider.call(ask(Operation.REFUND, REFUND, amount=3490, lines=lines,
                                         reason="Retour RMA-2026-000031"))
    assert answer == Answer(status="succeeded", reference=REFUND_ID)


# --- no answer: the outbox calls again, same key ----------------------------------------------


CAPTURING = ("post", f"/v1/payment_intents/{PI}/capture",
             {"amount_to_capture": "8000", **metadata("capture", CAPTURE)})


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (stripe.APIConnectionError("Network error: A ReadTimeout was raised",
                                   should_retry=True), 0),
        ("error_rate_limit.json", 429),
        ("error_api.json", 500),
        ("error_idempotency_key_in_use.json", 409),
        ("error_invalid_api_key.json", 401),
    ],
    ids=["timeout", "rate-limited", "server-error", "same-key-in-flight", "key-refused"],
)
async def test_no_answer_from_stripe_is_provider_unavailable(
    answer: str | Exception, status: int
) -> None:
    attempt = Exchange(*CAPTURING, answer, status, idempotency_key=key(CAPTURE))
    again = Exchange(*CAPTURING, "payment_intent_captured_partially.json",
                     idempotency_key=key(CAPTURE))
    with stripe_answering(attempt, again) as provider:
        capture = ask(Operation.CAPTURE, CAPTURE, amount=8000, final=True)
        with pytest.raises(ProviderUnavailable):
            await provider.call(capture)
        assert await provider.call(capture) == Answer(status="succeeded", reference=PI)


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_silent_stripe_times_out_without_blocking_the_event_loop() -> None:
    async with silent_server() as address:
        provider = StripeProvider(SECRET_KEY, WEBHOOK_SECRET, api_base=address, timeout=0.3)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        ticker = asyncio.create_task(tick())
        try:
            with pytest.raises(ProviderUnavailable, match="Stripe did not answer"):
                await provider.call(ask(Operation.CAPTURE, CAPTURE, amount=8000, final=True))
        finally:
            ticker.cancel()
            await provider.close()
    assert ticks >= 5  # the loop kept running while the call waited


# --- webhooks -------------------------------------------------------------------------------------


def event_body(name: str) -> bytes:
    return (RECORDINGS / "events" / f"{name}.json").read_bytes()


def signed(body: bytes, *, at: dt.datetime, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    """The Stripe-Signature header Stripe sends: HMAC-SHA256 of ``t.body`` with the secret."""
    timestamp = int(at.timestamp())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                         hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={timestamp},v1={signature}"}


def provider_for_webhooks() -> StripeProvider:
    return StripeProvider(SECRET_KEY, WEBHOOK_SECRET, http_client=RecordedStripe([]))


def received(name: str) -> list[WebhookOutcome]:
    body = event_body(name)
    return provider_for_webhooks().webhook(body, signed(body, at=NOW - dt.timedelta(seconds=4)),
                                           now=NOW)


def test_a_signed_charge_refunded_reports_each_of_our_refunds_and_only_ours() -> None:
    assert received("charge.refunded") == [WebhookOutcome(
        transaction_id=REFUND, reference=REFUND_ID, operation=Operation.REFUND,
        status="succeeded", amount=3490)]  # the refund made in Stripe's dashboard is not ours


@pytest.mark.parametrize(
    ("event", "outcomes"),
    [
        ("payment_intent.amount_capturable_updated", [WebhookOutcome(
            transaction_id=AUTHORIZATION, reference=PI, operation=Operation.AUTHORIZE,
            status="succeeded", amount=12990)]),
        ("payment_intent.payment_failed", [WebhookOutcome(
            transaction_id=AUTHORIZATION, reference=PI, operation=Operation.AUTHORIZE,
            status="failed", failure_code="payment_intent_authentication_failure",
            message="The provided PaymentMethod has failed authentication. You can provide "
                    "payment_method_data or a new PaymentMethod to attempt to fulfill this "
                    "PaymentIntent again.")]),
        ("payment_intent.succeeded", [WebhookOutcome(
            transaction_id=CAPTURE, reference=PI, operation=Operation.CAPTURE,
            status="succeeded")]),
        ("payment_intent.canceled", [WebhookOutcome(
            transaction_id=None, reference=PI, operation=Operation.VOID, status="succeeded",
            message="Cancelled on Stripe (automatic).")]),
        ("refund.updated", [WebhookOutcome(
            transaction_id=REFUND, reference=REFUND_ID, operation=Operation.REFUND,
            status="succeeded", amount=3490)]),
        ("refund.failed", [WebhookOutcome(
            transaction_id=REFUND, reference=REFUND_ID, operation=Operation.REFUND,
            status="failed", amount=3490, failure_code="expired_or_canceled_card")]),
        # A capture that keeps the rest (multicapture) lowers what can be captured: no news.
        ("payment_intent.amount_capturable_updated.after_a_capture", []),
        # Since API version 2022-11-15 a charge carries no refunds: refund.* events name them.
        ("charge.refunded.without_refunds", []),
        ("customer.created", []),  # acknowledged, nothing applied
    ],
)
def test_each_signed_event_reports_what_happened_to_our_transaction(
    event: str, outcomes: list[WebhookOutcome]
) -> None:
    assert received(event) == outcomes


def test_the_payment_intents_metadata_names_a_transaction_only_for_the_operation_it_made() -> None:
    """A PaymentIntent captured from Stripe's dashboard still carries our authorization's
    metadata: its payment_intent.succeeded names no transaction of ours, only the intent."""
    event = json.loads(event_body("payment_intent.succeeded"))
    event["data"]["object"]["metadata"] = json.loads(
        event_body("payment_intent.amount_capturable_updated"))["data"]["object"]["metadata"]
    body = json.dumps(event).encode()
    outcomes = provider_for_webhooks().webhook(body, signed(body, at=NOW), now=NOW)
    assert outcomes == [WebhookOutcome(transaction_id=None, reference=PI,
                                       operation=Operation.CAPTURE, status="succeeded")]


def test_a_replayed_webhook_reports_the_same_outcomes() -> None:
    body = event_body("charge.refunded")
    provider = provider_for_webhooks()
    first = provider.webhook(body, signed(body, at=NOW), now=NOW)
    again = provider.webhook(body, signed(body, at=NOW), now=NOW + dt.timedelta(seconds=30))
    resent = provider.webhook(body, signed(body, at=NOW + dt.timedelta(hours=1)),
                              now=NOW + dt.timedelta(hours=1))  # Stripe's retry, signed anew
    assert first == again == resent and len(first) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body: (body, signed(body, at=NOW, secret="whsec_someone_else")),
        lambda body: (body.replace(b'"amount": 3490', b'"amount": 349000'),
                      signed(body, at=NOW)),
        lambda body: (body, {"stripe-signature": signed(body, at=NOW)["stripe-signature"]
                             .replace(",v1=", ",v0=")}),
        lambda body: (body, {"stripe-signature": "t=not-a-time,v1=abc"}),
        lambda body: (body, {"stripe-signature": ""}),
        lambda body: (body, {}),
    ],
    ids=["other-secret", "body-changed", "other-scheme", "garbled", "empty", "missing"],
)
def test_a_webhook_with_a_bad_signature_is_refused(
    tamper: Callable[[bytes], tuple[bytes, dict[str, str]]],
) -> None:
    body, headers = tamper(event_body("charge.refunded"))
    with pytest.raises(BadWebhook):
        provider_for_webhooks().webhook(body, headers, now=NOW)


def test_a_webhook_signed_more_than_five_minutes_ago_is_refused() -> None:
    body = event_body("charge.refunded")
    provider = provider_for_webhooks()
    fresh_enough = signed(body, at=NOW - dt.timedelta(seconds=299))
    assert provider.webhook(body, fresh_enough, now=NOW)
    with pytest.raises(BadWebhook, match="replay"):
        provider.webhook(body, signed(body, at=NOW - dt.timedelta(seconds=301)), now=NOW)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe\x00{",
        b'{"hello": "world"}',
        json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
                    "data": {"object": {"id": PI}}}).encode(),
    ],
    ids=["not-json", "not-utf8", "not-an-event", "intent-without-its-fields"],
)
def test_a_signed_body_that_is_not_a_stripe_event_is_refused(body: bytes) -> None:
    with pytest.raises(BadWebhook):
        provider_for_webhooks().webhook(body, signed(body, at=NOW), now=NOW)


# --- wiring -----------------------------------------------------------------------------------


def test_the_provider_is_made_from_the_settings_only_when_a_secret_key_is_set() -> None:
    assert stripe_provider(Settings()) is None
    provider = stripe_provider(Settings(stripe_secret_key=SECRET_KEY,
                                        stripe_webhook_secret=WEBHOOK_SECRET))
    assert isinstance(provider, StripeProvider) and provider.name == "stripe"
    as_a_provider: PaymentProvider = provider  # what the payments service holds
    body = event_body("refund.updated")
    assert as_a_provider.webhook(body, signed(body, at=NOW), now=NOW)
