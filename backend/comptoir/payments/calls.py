"""The outbox's side of payments: ask the provider, append what it answered.

Four outbox kinds (payments/transactions.py): ``payment.call`` asks the provider for a
pending transaction; ``payment.authorize`` and ``payment.record`` come from a capture, which
writes only an outbox message (its statement budget has no room for more, and a refused
capture leaves nothing to undo): their handler first writes the transaction, its id the
message's own, so a message delivered twice writes it once; ``payment.release`` voids an
authorization the shop made for an order Comptoir refused. A call is made only while the
transaction has no outcome, always with the same idempotency key (``ProviderCall``): after
a crash, a timeout or a redelivery the provider sees the same call and performs it once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.db.base import utcnow
from comptoir.events.dispatcher import Delivery, Handler
from comptoir.orders import lifecycle
from comptoir.orders.models import Order
from comptoir.payments import service, transactions
from comptoir.payments.models import PaymentOutcome, PaymentTransaction
from comptoir.payments.providers.base import (
    Answer,
    Operation,
    PaymentProvider,
    ProviderCall,
    RefundLine,
    WebhookOutcome,
)
from comptoir.payments.rules import Kind

__all__ = ["PaymentCalls"]

log = logging.getLogger("comptoir.payments")

_OPERATION = {Kind.AUTHORIZATION: Operation.AUTHORIZE, Kind.CAPTURE: Operation.CAPTURE,
              Kind.VOID: Operation.VOID, Kind.REFUND: Operation.REFUND}
_KIND = {operation: kind for kind, operation in _OPERATION.items()}
_RELEASES = uuid.UUID("6d1f0c52-6a0e-4a51-9d0c-7f5b2b8f0e11")  # keys of refused orders' voids


class PaymentCalls:
    """The payment outbox handlers and the webhook intake, over the configured providers."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession],
                 providers: Mapping[str, PaymentProvider],
                 delivered: transactions.Delivered) -> None:
        self.sessionmaker = sessionmaker
        self.providers = providers
        self.delivered = delivered

    async def close(self) -> None:
        """Close the providers' connections (Stripe's HTTP client), at the app's stop."""
        for provider in self.providers.values():
            close = getattr(provider, "close", None)
            if close is not None:
                await close()

    def handlers(self) -> dict[str, Handler]:
        return {transactions.CALL: self.call, transactions.AUTHORIZE: self.authorize,
                transactions.RECORD: self.record, transactions.RELEASE: self.release}

    # --- outbox handlers ------------------------------------------------------------------------

    async def call(self, delivery: Delivery) -> None:
        await self._perform(uuid.UUID(delivery.payload["transaction_id"]))

    async def authorize(self, delivery: Delivery) -> None:
        """Capture's ``payment.authorize``: the authorization, then the call."""
        await self._write_from_capture(delivery, Kind.AUTHORIZATION)
        await self._perform(delivery.id)

    async def record(self, delivery: Delivery) -> None:
        """Capture's ``payment.record``: the channel took the money; Comptoir records the
        capture, succeeded, with the channel's reference."""
        async with self.sessionmaker() as session, session.begin():
            tx = await self._write_from_capture_in(session, delivery, Kind.CAPTURE)
            if tx is not None:
                await service.apply_outcome(
                    session, tx, status="succeeded", reference=tx.source, failure_code=None,
                    message=None, via="recorded", delivered=self.delivered)

    async def release(self, delivery: Delivery) -> None:
        """``payment.release``: void the authorization a shop made for an order Comptoir
        refused. Keyed by the authorization's reference, so a refusal repeated (a shop
        retrying) voids it once."""
        payload = delivery.payload
        provider = self.providers.get(payload["provider"])
        if provider is None:
            log.warning("no %s provider to release %s", payload["provider"], payload["reference"])
            return
        answer = await provider.call(ProviderCall(
            transaction_id=uuid.uuid5(_RELEASES, f"{payload['provider']}:{payload['reference']}"),
            operation=Operation.VOID, amount=int(payload["amount"]),
            currency=payload["currency"] or "EUR", order_number="",
            source=payload["reference"], reason="order refused"))
        log.info("authorization %s of a refused order released: %s %s", payload["reference"],
                 answer.status, answer.failure_code or "")

    async def _write_from_capture(self, delivery: Delivery, kind: Kind) -> None:
        async with self.sessionmaker() as session, session.begin():
            await self._write_from_capture_in(session, delivery, kind)

    async def _write_from_capture_in(self, session: AsyncSession, delivery: Delivery,
                                     kind: Kind) -> PaymentTransaction | None:
        """The transaction a capture asked for (None: it was written already)."""
        if await session.get(PaymentTransaction, delivery.id) is not None:
            return None
        payload = delivery.payload
        order = await session.scalar(select(Order).where(Order.number == payload["order_number"]))
        if order is None:  # the capture's message, its order: this cannot be, but say so
            raise LookupError(f"order {payload['order_number']} of payment {delivery.id}")
        tx = PaymentTransaction(
            id=delivery.id, order_id=order.id, order_number=order.number, kind=kind.value,
            provider=payload["provider"], parent_id=None, amount=int(payload["amount"]),
            currency=payload["currency"], source=payload.get("token") or payload.get("reference"),
            reason=None, lines=None, credit_note_number=None, trigger="capture",
            actor=str(payload.get("actor") or "channel"), created_at=utcnow())
        session.add(tx)
        await session.flush()
        await transactions.record_requested(session, tx)
        return tx

    # --- the call -------------------------------------------------------------------------------

    async def _perform(self, tx_id: uuid.UUID) -> None:
        async with self.sessionmaker() as session, session.begin():
            asked = await self._call_for(session, tx_id)
        if asked is None:
            return
        provider_name, call = asked
        provider = self.providers.get(provider_name)
        if provider is None:
            answer = Answer(status="failed", failure_code="provider_not_configured",
                            message=f"No {provider_name} provider is configured.")
        else:
            answer = await provider.call(call)  # ProviderUnavailable: the outbox retries
        if answer.status == "pending":
            log.info("payment %s pending at %s: its webhook will tell", tx_id, provider_name)
            return
        async with self.sessionmaker() as session, session.begin():
            tx = await session.get(PaymentTransaction, tx_id)
            assert tx is not None
            await service.apply_outcome(
                session, tx, status=answer.status, reference=answer.reference,
                failure_code=answer.failure_code, message=answer.message, via="answer",
                delivered=self.delivered)

    async def _call_for(self, session: AsyncSession, tx_id: uuid.UUID) -> tuple[
        str, ProviderCall
    ] | None:
        """The call to make for a transaction; None when it already has its outcome."""
        tx = await session.get(PaymentTransaction, tx_id)
        if tx is None:
            raise LookupError(f"payment transaction {tx_id}")
        if await _outcome(session, tx.id) is not None:
            return None
        kind = Kind(tx.kind)
        source = tx.source or ""
        if kind is not Kind.AUTHORIZATION:
            authorization = await _authorization_of(session, tx)
            found = await _outcome(session, authorization.id)
            source = (found.reference if found and found.reference else authorization.source) or ""
        order = await session.get(Order, tx.order_id)
        final = kind is Kind.CAPTURE and order is not None and order.status in lifecycle.ALL_LEFT
        return tx.provider, ProviderCall(
            transaction_id=tx.id, operation=_OPERATION[kind], amount=tx.amount,
            currency=tx.currency, order_number=tx.order_number, source=source, final=final,
            reason=tx.reason, lines=tuple(
                RefundLine(sku=str(line["sku"]), name=str(line["name"]),
                           quantity=int(line["quantity"]), amount=int(line["amount"]))
                for line in tx.lines or ()))

    # --- webhooks -------------------------------------------------------------------------------

    async def apply_webhook(self, provider: str, outcomes: list[WebhookOutcome]) -> int:
        """Apply what a provider's (verified) webhook reports; how many outcomes were new.
        A replayed webhook finds its outcomes written already and changes nothing."""
        applied = 0
        for reported in outcomes:
            async with self.sessionmaker() as session, session.begin():
                tx = await _reported(session, provider, reported)
                if tx is None:
                    log.info("%s webhook about an unknown transaction (%s %s): ignored",
                             provider, reported.operation, reported.reference)
                    continue
                if reported.amount is not None and reported.amount != tx.amount:
                    log.warning("%s webhook: %s of %s for transaction %s of %s", provider,
                                reported.operation, reported.amount, tx.id, tx.amount)
                applied += await service.apply_outcome(
                    session, tx, status=reported.status, reference=reported.reference,
                    failure_code=reported.failure_code, message=reported.message,
                    via="webhook", delivered=self.delivered)
        return applied


async def _outcome(session: AsyncSession, tx_id: uuid.UUID) -> PaymentOutcome | None:
    found: PaymentOutcome | None = await session.scalar(
        select(PaymentOutcome).where(PaymentOutcome.transaction_id == tx_id))
    return found


async def _authorization_of(session: AsyncSession, tx: PaymentTransaction) -> PaymentTransaction:
    """The authorization a capture or a void draws on, or a refunded capture drew on."""
    current = tx
    while current.kind != Kind.AUTHORIZATION.value and current.parent_id is not None:
        parent = await session.get(PaymentTransaction, current.parent_id)
        assert parent is not None
        current = parent
    return current


async def _reported(session: AsyncSession, provider: str,
                    reported: WebhookOutcome) -> PaymentTransaction | None:
    if reported.transaction_id is not None:
        tx = await session.get(PaymentTransaction, reported.transaction_id)
        return tx if tx is not None and tx.provider == provider else None
    if reported.reference is None:
        return None
    kind = _KIND[reported.operation].value
    found: PaymentTransaction | None = await session.scalar(
        select(PaymentTransaction)
        .join(PaymentOutcome, PaymentOutcome.transaction_id == PaymentTransaction.id)
        .where(PaymentOutcome.reference == reported.reference,
               PaymentTransaction.kind == kind, PaymentTransaction.provider == provider))
    return found
