"""Stripe through Comptoir, on recorded answers: a shop's own PaymentIntent checked, captured
when the parcel ships, partly refunded, the refund settled by a signed ``charge.refunded``
webhook; a webhook with a bad or old signature is refused with 400 and changes nothing."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import stripe

from comptoir.payments.providers.stripe import StripeProvider
from tests.invoicing.conftest import ship
from tests.payments.conftest import payments
from tests.payments.test_stripe_provider import (
    RECORDINGS,
    SECRET_KEY,
    SHOP_PI,
    WEBHOOK_SECRET,
    signed,
)

# Shipping is free from 100.00: the order costs 125.00 of the 129.90 the shop's PaymentIntent
# holds; the rest is released by the final capture.
JACKET_PRICE = 12500


class StripeOnRecord(stripe.HTTPClient):
    """Stripe's API as recorded, by request; every request is kept for the test to read."""

    name = "on-record"

    def __init__(self, answers: Mapping[tuple[str, str], bytes]) -> None:
        super().__init__()
        self.answers = dict(answers)
        self.refusals: dict[tuple[str, str], bytes] = {}  # answered with a 400
        # What Stripe says of a request once another was made (the intent once captured).
        self.then: dict[tuple[str, str], tuple[tuple[str, str], bytes]] = {}
        self.received: list[tuple[str, str, dict[str, str], str | None]] = []

    async def request_async(self, method: str, url: str, headers: Mapping[str, str],
                            post_data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        parts = urlsplit(url)
        sent = dict(parse_qsl((post_data if method == "post" else parts.query) or ""))
        self.received.append((method, parts.path, sent, headers.get("Idempotency-Key")))
        if (method, parts.path) in self.refusals:
            return self.refusals[(method, parts.path)], 400, {"Request-Id": "req_on_record"}
        body = self.answers[(method, parts.path)]
        if (method, parts.path) in self.then:
            changed, answer = self.then[(method, parts.path)]
            self.answers[changed] = answer
        return body, 200, {"Request-Id": "req_on_record", "Content-Type": "application/json"}

    async def close_async(self) -> None:
        pass


def _recording(name: str, **changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((RECORDINGS / name).read_text())
    found.update(changes)
    return found


@pytest.fixture
async def stripe_channel(app: Any) -> AsyncIterator[StripeOnRecord]:
    """The web channel takes its payments through Stripe, answering from recordings."""
    from comptoir.config import service as config
    from comptoir.config.models import SalesChannel

    recorded = StripeOnRecord({
        ("get", f"/v1/payment_intents/{SHOP_PI}"):
            (RECORDINGS / "payment_intent_shop_authorized.json").read_bytes(),
        ("post", f"/v1/payment_intents/{SHOP_PI}/capture"):
            (RECORDINGS / "payment_intent_shop_captured.json").read_bytes(),
    })
    recorded.then[("post", f"/v1/payment_intents/{SHOP_PI}/capture")] = (
        ("get", f"/v1/payment_intents/{SHOP_PI}"),
        (RECORDINGS / "payment_intent_shop_captured.json").read_bytes())
    recorded.refusals[("post", f"/v1/payment_intents/{SHOP_PI}/cancel")] = (
        RECORDINGS / "error_payment_intent_unexpected_state.json").read_bytes()
    providers = app.state["payment_calls"].providers
    before = dict(providers)
    providers["stripe"] = StripeProvider(SECRET_KEY, WEBHOOK_SECRET, http_client=recorded)
    await SalesChannel.update({SalesChannel.payment_provider: "stripe"}).where(
        SalesChannel.code == "web")
    config.invalidate()
    yield recorded
    await SalesChannel.update({SalesChannel.payment_provider: "sandbox"}).where(
        SalesChannel.code == "web")
    config.invalidate()
    providers.clear()
    providers.update(before)


def _charge_refunded(refund_id: str, amount: int) -> bytes:
    """Stripe's ``charge.refunded`` event for our refund, on the shop's PaymentIntent."""
    event = json.loads((RECORDINGS / "events" / "charge.refunded.json").read_text())
    charge = event["data"]["object"]
    charge["payment_intent"] = SHOP_PI
    ours = copy.deepcopy(charge["refunds"]["data"][1])
    ours.update(amount=amount, payment_intent=SHOP_PI, status="succeeded")
    ours["metadata"]["comptoir_transaction"] = refund_id
    charge["refunds"]["data"] = [charge["refunds"]["data"][0], ours]
    return json.dumps(event).encode()


async def test_stripe_capture_partial_refund_and_signed_webhook_are_applied(
    manager: httpx.AsyncClient, anon: httpx.AsyncClient, catalog: Any, packed: Any,
    stripe_channel: StripeOnRecord, drain: Any, money_rows: Any,
) -> None:
    await catalog.add("JACKET", price=JACKET_PRICE, stock={"WH-PARIS": 3})
    number, work = await packed(("JACKET", 1), payment={
        "provider": "stripe", "reference": SHOP_PI, "amount": 12990})
    await drain()
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    await drain()
    paid = await payments(manager, number)
    assert [(t["kind"], t["status"], t["amount"], t["reference"])
            for t in paid["transactions"]] == [
        ("authorization", "succeeded", 12990, SHOP_PI), ("capture", "succeeded", 12500, SHOP_PI),
        ("void", "succeeded", 490, SHOP_PI)]
    capture_id = paid["transactions"][1]["id"]
    assert ("post", f"/v1/payment_intents/{SHOP_PI}/capture",
            {"amount_to_capture": "12500", "metadata[comptoir_transaction]": capture_id,
             "metadata[comptoir_operation]": "capture", "metadata[comptoir_order]": number},
            f"comptoir-{capture_id}") in stripe_channel.received

    refunded = await manager.post(f"/api/orders/{number}/payments/refund",
                                  json={"reason": "late delivery", "amount": 3490})
    assert refunded.status_code == 200, refunded.text
    refund_id = refunded.json()["transactions"][-1]["id"]
    stripe_channel.answers[("post", "/v1/refunds")] = json.dumps(_recording(
        "refund_partial.json", status="pending", payment_intent=SHOP_PI,
        metadata={"comptoir_transaction": refund_id})).encode()
    await drain()
    assert (await payments(manager, number))["transactions"][-1]["status"] == "pending"

    body = _charge_refunded(refund_id, 3490)
    now = dt.datetime.now(dt.UTC)
    before = await money_rows()
    for headers in (signed(body, at=now, secret="whsec_someone_else"),
                    signed(body, at=now - dt.timedelta(minutes=10)),
                    {"stripe-signature": "t=1,v1=00"}, {}):
        refused = await anon.post("/api/payments/webhooks/stripe", content=body,
                                  headers={"content-type": "application/json", **headers})
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "bad_webhook"
    assert await money_rows() == before

    for expected in ({"received": 1, "applied": 1}, {"received": 1, "applied": 0}):
        applied = await anon.post("/api/payments/webhooks/stripe", content=body,
                                  headers={"content-type": "application/json",
                                           **signed(body, at=now)})
        assert applied.status_code == 200, applied.text
        assert applied.json() == expected
    summary = (await payments(manager, number))["summary"]
    assert (summary["status"], summary["captured"], summary["refunded"], summary["balance"]) \
        == ("partially_refunded", 12500, 3490, 12500 - 3490)
