"""Payment endpoints: an order's transactions, the managers' capture, void and refund, and
the providers' webhooks."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import ALL, MANAGERS, allow, public
from comptoir.auth.schemas import Principal
from comptoir.db.base import utcnow
from comptoir.errors import DomainError, NotFound
from comptoir.idempotency import IdempotencyKeyHeader, answer_once
from comptoir.payments import reading, refunds, service
from comptoir.payments.calls import PaymentCalls
from comptoir.payments.providers.base import BadWebhook
from comptoir.payments.schemas import CaptureIn, PaymentsOut, RefundIn, VoidIn

__all__ = ["PaymentWebhooksController", "PaymentsController", "WebhookAnswer"]

MAX_WEBHOOK_BYTES = 256 * 1024


async def _once(session: AsyncSession, principal: Principal, key: str | None, action: str,
                data: object, apply: Callable[[], Awaitable[PaymentsOut]]) -> Response[PaymentsOut]:
    """A money action, applied once per Idempotency-Key."""
    return await answer_once(session, principal, key, action="payment " + action, data=data,
                             answer_type=PaymentsOut, status_code=200, apply=apply)


class PaymentsController(Controller):
    path = "/api/orders/{number:str}/payments"
    tags = ["payments"]

    @get("/", opt=allow(ALL), summary="The order's payment transactions and balance")
    async def list_payments(self, number: str, principal: Principal,
                            db_session: AsyncSession) -> PaymentsOut:
        return await reading.order_payments(db_session, number, principal)

    @post("/{transaction_id:uuid}/capture", opt=allow(MANAGERS), status_code=200,
          summary="Capture on an authorization (all it has left, or an amount)")
    async def capture(
        self, number: str, transaction_id: uuid.UUID, principal: Principal,
        db_session: AsyncSession, data: CaptureIn | None = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentsOut]:
        given = data or CaptureIn()
        return await _once(db_session, principal, idempotency_key,
                           f"capture {number} {transaction_id}", given,
                           lambda: service.capture(db_session, number, transaction_id, given,
                                                   principal=principal))

    @post("/{transaction_id:uuid}/void", opt=allow(MANAGERS), status_code=200,
          summary="Release what is left of an authorization")
    async def void(
        self, number: str, transaction_id: uuid.UUID, principal: Principal,
        db_session: AsyncSession, data: VoidIn | None = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentsOut]:
        given = data or VoidIn()
        return await _once(db_session, principal, idempotency_key,
                           f"void {number} {transaction_id}", given,
                           lambda: service.void(db_session, number, transaction_id, given,
                                                principal=principal))

    @post("/{transaction_id:uuid}/refund", opt=allow(MANAGERS), status_code=200,
          summary="Refund part of a capture, by amount or by lines, with a reason")
    async def refund(
        self, number: str, transaction_id: uuid.UUID, data: RefundIn, principal: Principal,
        db_session: AsyncSession, idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentsOut]:
        return await _once(db_session, principal, idempotency_key,
                           f"refund {number} {transaction_id}", data,
                           lambda: refunds.refund(db_session, number, transaction_id, data,
                                                  principal=principal))

    @post("/refund", opt=allow(MANAGERS), status_code=200,
          summary="Refund the order, by amount or by lines, from its captures")
    async def refund_order(
        self, number: str, data: RefundIn, principal: Principal, db_session: AsyncSession,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentsOut]:
        return await _once(db_session, principal, idempotency_key, f"refund {number}", data,
                           lambda: refunds.refund(db_session, number, None, data,
                                                  principal=principal))


class WebhookAnswer(msgspec.Struct, frozen=True, kw_only=True):
    received: int  # outcomes the webhook reported
    applied: int  # of which new (a replay applies none)


class PaymentWebhooksController(Controller):
    path = "/api/payments/webhooks"
    tags = ["payments"]

    @post("/{provider:str}", opt=public(), status_code=200,
          summary="A payment provider reports outcomes (signed by the provider)")
    async def webhook(self, provider: str, request: Request[Any, Any, Any]) -> WebhookAnswer:
        calls: PaymentCalls = request.app.state["payment_calls"]
        known = calls.providers.get(provider)
        if known is None:
            raise NotFound(f"No payment provider '{provider}' is configured here.",
                           code="unknown_payment_provider")
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            raise DomainError("This webhook body is too large.", code="bad_webhook")
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            outcomes = known.webhook(body, headers, now=utcnow())
        except BadWebhook as exc:
            raise DomainError(f"This webhook is not {provider}'s: {exc}",
                              code="bad_webhook") from exc
        applied = await calls.apply_webhook(provider, outcomes)
        return WebhookAnswer(received=len(outcomes), applied=applied)
