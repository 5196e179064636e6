"""Order capture: load, decide (pure), write, announce.

The order is routed the moment it arrives, on the availability read with the variants;
``draft.draft_order`` makes every row of it; one writer (``writing.writer_for``) persists
it. On PostgreSQL the write is one statement, which the captures arriving at the same
moment share: two statements in all, whatever the Idempotency-Key or the customer, and one
when this process read the SKUs in the last seconds (inventory.RecentReads: routing may
lean on that read, the write never does). On SQLite, one writer at a time, the same rows go
one table at a time (about 11 statements). A channel whose fraud rules read the customer's
history (velocity, new customer, cards: ``screening.py``) costs one statement more, on the
session; rules that look at the order alone cost none. tests/orders/test_statement_budget.py
holds a one-line capture to 12. Level rows are locked last, in (sku, location) order.

Idempotency-Key: the key row is written with the order and its answer; a concurrent twin
waits on its unique index (SQLite: the write lock) until the first commits, then its own
write is refused and it replays the first answer (or, when the first failed, finds it
through ``answer_for_retry``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.config import service as config
from comptoir.db.base import new_id, utcnow
from comptoir.db.engine import on_commit
from comptoir.errors import Conflict, InvalidInput
from comptoir.events.models import Event
from comptoir.events.service import announce_committed, outbox_wakeup, recorded_by_sql
from comptoir.idempotency import key_scope, stored_response
from comptoir.inventory import service as inventory
from comptoir.orders.checks import (
    CaptureRequest,
    check_capture,
    check_variants,
    request_hash,
    unit_price_for,
)
from comptoir.orders.draft import CaptureFacts, OrderDraft, draft_order
from comptoir.orders.handoff import hand_off_payloads
from comptoir.orders.models import Order
from comptoir.orders.pricing import line_rate
from comptoir.orders.reading import render
from comptoir.orders.refusals import not_routed, short_after_all
from comptoir.orders.rows import Written
from comptoir.orders.schemas import OrderIn, OrderOut
from comptoir.orders.screening import screening_for
from comptoir.orders.writing import Refusal, Refused, writer_for
from comptoir.routing import service as routing

__all__ = ["AlreadyCaptured", "Captured", "answer_for_retry", "capture", "stored_answer"]

CAPTURE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Captured:
    """A new order (201), or the stored answer to a repeated Idempotency-Key."""

    order: OrderOut
    status_code: int = 201
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class AlreadyCaptured:
    """The channel already sent this external reference: the caller answers with that order.

    The capture transaction must be rolled back first (it may hold a customer update and a
    number), then ``find_by_external_ref`` read in a fresh one.
    """

    channel: str
    external_ref: str


async def capture(
    session: AsyncSession, data: OrderIn, *, principal: Principal,
    idempotency_key: str | None = None,
) -> Captured | AlreadyCaptured:
    """Capture an order and reserve every line, all or nothing.

    A write refused on what the attempt read (units or a location's day taken meanwhile,
    a customer created meanwhile) is tried again on fresh reads; the last attempt after
    losing the race for locations' last slots of the day routes without them, or waits."""
    request = await check_capture(data, principal, idempotency_key)
    writer = writer_for(session)
    limits_taken = False
    for attempt in range(1, CAPTURE_ATTEMPTS + 1):
        last = attempt == CAPTURE_ATTEMPTS
        now = utcnow()
        shared = await writer.prepare(session, now.year)
        facts = await load(session, request, shared, now, recent=attempt == 1,
                           limits_taken=limits_taken and last)
        draft = draft_order(request, facts)
        if not draft.accepted and data.external_ref is None:
            raise not_routed(draft.decision)
        written = await writer.write(session, draft)
        if isinstance(written, Written):
            return Captured(order=announce(session, draft, written))
        answer = await refused(session, request, draft, written, last=last)
        if answer is not None:
            return answer
        limits_taken = limits_taken or written.reason is Refusal.AT_CAPACITY
    raise Conflict("Stock, locations or customers changed under this order several times in "
                   "a row; send it again.", code="capture_contended")


async def load(
    session: AsyncSession, request: CaptureRequest, shared: AsyncEngine | None,
    now: dt.datetime, *, recent: bool, limits_taken: bool,
) -> CaptureFacts:
    """Read the variants and their stock, the VAT rates (each SKU's tax class's in the
    delivery country: a class without one refuses the order), what the channel's fraud
    rules need (``screening.screening_for``: nothing without a threshold, or without a rule
    that reads history), and route; no write. ``shared``:
    read with the other captures of the moment, on that engine, not in the session;
    ``recent``: this process's recent read of the SKUs will do (inventory.RecentReads), but
    an order it would refuse or could not route is read again afresh. ``limits_taken``:
    route as if every location with a daily capacity were full (``routing.route``)."""
    skus = [line.sku for line in request.data.lines]
    if shared is None:
        variants, stock = await inventory.variants_with_availability(session, skus)
        recent = False
    else:
        (variants, stock), recent = await inventory.variants_with_availability_together(
            shared, skus, recent=recent)
    country = request.delivery.country
    rates = await config.vat_rates(country)
    try:
        check_variants(skus, variants)
        for line in request.data.lines:
            unit_price_for(variants[line.sku], line.unit_price, request.channel)
        line_rates = {sku: line_rate(rates, variants[sku].tax_class, sku, country)
                      for sku in skus}
    except InvalidInput:
        if not recent:
            raise
        return await load(session, request, shared, now, recent=False,
                          limits_taken=limits_taken)
    order_id = new_id()
    decision = await routing.route(session, request.demand, request.delivery.for_routing(),
                                   channel=request.channel.code, stock=stock, now=now,
                                   limits_taken=limits_taken, together=shared)
    if recent and not decision.accepted:
        return await load(session, request, shared, now, recent=False,
                          limits_taken=limits_taken)
    routed_to = decision.locations if decision.routed else []
    return CaptureFacts(
        order_id=order_id, now=now, variants=variants,
        vat_rate_bp=rates["standard"], line_rates=line_rates, decision=decision,
        claims=tuple(await routing.capacity_claims(decision, now=now)),
        hand_offs=tuple(await hand_off_payloads(order_id=order_id, order_number="",
                                                locations=routed_to, actor=request.actor)),
        screening=await screening_for(session, request, now, shared))


def announce(session: AsyncSession, draft: OrderDraft, written: Written) -> OrderOut:
    """Have the order's events and outbox messages announced: now when the writer committed
    them, else when the session commits. The order as the API shows it."""
    order = draft.order
    if written.committed:
        assert isinstance(session.bind, AsyncEngine)
        announce_committed([
            Event(id=event.id, seq=None, topic="order", type=event.type,
                  subject=written.number, data=event.data, actor=order.created_by,
                  at=order.created_at)
            for event in draft.events], database=session.bind.url)
        if draft.outbox:
            outbox_wakeup.set()
    else:
        for event in draft.events:
            recorded_by_sql(session, id=event.id, topic="order", type=event.type,
                            subject=written.number, data=event.data, actor=order.created_by,
                            at=order.created_at)
        if draft.outbox:
            on_commit(session, outbox_wakeup.set)
    return draft.answer_for(written)


async def refused(
    session: AsyncSession, request: CaptureRequest, draft: OrderDraft, refusal: Refused, *,
    last: bool,
) -> Captured | AlreadyCaptured | None:
    """The answer to a refused write, after rolling it back; None: try again afresh."""
    await session.rollback()
    if refusal.reason is Refusal.REPEATED_EXTERNAL_REF:
        assert request.data.external_ref is not None
        return AlreadyCaptured(request.channel.code, request.data.external_ref)
    if refusal.reason is Refusal.NOT_ROUTED:
        raise not_routed(draft.decision)
    if refusal.reason is Refusal.IDEMPOTENCY_KEY_TAKEN:
        assert request.idempotency_key is not None
        return await _replay(session, request.scope, request.idempotency_key, request.digest)
    if refusal.reason is Refusal.SHORT and last:
        raise await short_after_all(session, request.demand, request.delivery,
                                    request.channel.code)
    return None


async def stored_answer(
    session: AsyncSession, scope: str, key: str, digest: str
) -> Captured | None:
    """The answer the first request with this key got; a refusal if it had another body."""
    stored = await stored_response(session, scope, key, digest)
    if stored is None:
        return None
    status_code, response = stored
    try:
        order = msgspec.json.decode(response, type=OrderOut)
    except msgspec.ValidationError:
        # Stored by an earlier version, before fields the answer has now (per-line VAT):
        # the same order, as it reads today.
        order = await _as_it_reads_now(session, response)
    return Captured(order=order, status_code=status_code, replayed=True)


class _Numbered(msgspec.Struct):
    number: str


async def _as_it_reads_now(session: AsyncSession, response: str) -> OrderOut:
    number = msgspec.json.decode(response, type=_Numbered).number
    order = await session.scalar(select(Order).where(Order.number == number))
    if order is None:  # the stored answer names an order that is gone: not retryable
        raise Conflict("This Idempotency-Key's order no longer exists; use a new key.",
                       code="idempotency_key_reused")
    return await render(session, order)


async def _replay(session: AsyncSession, scope: str, key: str, digest: str) -> Captured:
    replay = await stored_answer(session, scope, key, digest)
    if replay is None:  # the key was just purged: a retry will capture afresh
        raise Conflict("This Idempotency-Key changed meanwhile; retry.",
                       code="idempotency_key_in_use")
    return replay


async def answer_for_retry(
    session: AsyncSession, data: OrderIn, *, principal: Principal, idempotency_key: str | None
) -> Captured | None:
    """After a capture that did not go through: the first answer to this key, if there is one.

    A retry whose order was captured meanwhile must get that order back, not the refusal
    (e.g. out of stock: the first request took the last units). Call it in a fresh
    transaction, after the failed one was rolled back.
    """
    if idempotency_key is None:
        return None
    channel = principal.channel if principal.role == "channel" else data.channel
    return await stored_answer(session, key_scope(principal), idempotency_key,
                               request_hash(data, channel))
