"""Order endpoints: capture, read, list, and the changes staff make to an order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import HeaderParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import ALL, MANAGERS, STAFF, allow, current_principal
from comptoir.auth.schemas import Principal
from comptoir.errors import DomainError
from comptoir.idempotency import IdempotencyKeyHeader, answer_once
from comptoir.orders import actions, capture, reading, review, search
from comptoir.orders import edit as editing
from comptoir.orders.fraud import Locale
from comptoir.orders.schemas import (
    CancelIn,
    EditIn,
    EventOut,
    FraudReviewPage,
    HoldIn,
    NoteIn,
    OrderDetailOut,
    OrderIn,
    OrderOut,
    OrderPage,
    RejectIn,
)
from comptoir.payments import following as payments
from comptoir.tracking.wording import negotiate

__all__ = ["FraudReviewController", "OrdersController"]

IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False)]
# The reader's language for what the server words (fraud reasons): ``lang`` when given,
# else the browser's Accept-Language, else French.
Lang = Annotated[Literal["fr", "en"] | None, QueryParameter(
    name="lang", required=False, description="fr or en; default: Accept-Language")]


def _locale(request: Request[Any, Any, Any], lang: Locale | None) -> Locale:
    return lang or negotiate(request.headers.get("accept-language"))


def _answer(order: OrderOut, status_code: int = 200) -> Response[OrderOut]:
    return Response(order, status_code=status_code, headers={"ETag": f'"{order.version}"'})


class OrdersController(Controller):
    path = "/api/orders"
    tags = ["orders"]

    @post(
        "/",
        opt=allow(STAFF, "channel"),
        summary="Capture an order",
        description=(
            "Reserves every line, all or nothing (409 out_of_stock otherwise). Send an "
            "Idempotency-Key header to make retries safe; a repeated external_ref returns the "
            "existing order with 200."
        ),
    )
    async def capture(
        self,
        request: Request[Any, Any, Any],
        data: OrderIn,
        db_session: AsyncSession,
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", required=False)
        ] = None,
    ) -> Response[OrderOut]:
        # The principal straight from the guard's work rather than as a dependency: Litestar
        # resolves two independent dependencies in a task group, which costs more than both.
        principal = current_principal(request)
        try:
            outcome = await capture.capture(
                db_session, data, principal=principal, idempotency_key=idempotency_key)
        except DomainError as refusal:
            # Roll back before answering: no reservation may outlive a refused order.
            await db_session.rollback()
            replay = await capture.answer_for_retry(
                db_session, data, principal=principal, idempotency_key=idempotency_key)
            if replay is None:
                # Nor an authorization the shop made for it.
                if await payments.release_unused(db_session, refusal.code, data.payment,
                                                 data.channel or principal.channel):
                    await db_session.commit()
                raise
            outcome = replay
        if isinstance(outcome, capture.AlreadyCaptured):
            # Undo this attempt (customer update, number), then answer with the first order.
            await db_session.rollback()
            replay = await capture.answer_for_retry(
                db_session, data, principal=principal, idempotency_key=idempotency_key)
            if replay is not None:
                return _answer(replay.order, replay.status_code)
            order = await reading.find_by_external_ref(
                db_session, outcome.channel, outcome.external_ref)
            return _answer(await reading.render(db_session, order), 200)
        if outcome.replayed:
            await db_session.rollback()
        elif db_session.in_transaction():  # not when a shared statement wrote the order
            await db_session.commit()
        return _answer(outcome.order, outcome.status_code)

    @get("/", opt=allow(ALL), summary="Orders, newest first (cursor pagination)")
    async def list_orders(
        self,
        principal: Principal,
        db_session: AsyncSession,
        status: str | None = None,
        channel: str | None = None,
        location: str | None = None,
        created_from: Annotated[dt.datetime | None, QueryParameter(name="from")] = None,
        created_to: Annotated[dt.datetime | None, QueryParameter(name="to")] = None,
        q: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> OrderPage:
        return await search.list_orders(
            db_session, principal, status=status, channel=channel, location=location,
            created_from=created_from, created_to=created_to, q=q, cursor=cursor, limit=limit)

    @get("/{number:str}", opt=allow(ALL), summary="One order with its lines and timeline",
         description="Managers also get the order's fraud screening (``fraud``), its "
                     "reasons worded in the caller's language.")
    async def get_order(
        self, request: Request[Any, Any, Any], number: str, principal: Principal,
        db_session: AsyncSession, lang: Lang = None,
    ) -> Response[OrderDetailOut]:
        order = await reading.order_detail(db_session, number, principal,
                                           locale=_locale(request, lang))
        return Response(order, headers={"ETag": f'"{order.version}"'})

    @get("/{number:str}/events", opt=allow(ALL), summary="The order's timeline")
    async def get_events(
        self, number: str, principal: Principal, db_session: AsyncSession
    ) -> list[EventOut]:
        await reading.find_order(db_session, number, principal)
        return await reading.order_events(db_session, number)

    @patch("/{number:str}", opt=allow(MANAGERS), summary="Edit an order (If-Match: version)")
    async def edit(
        self, number: str, data: EditIn, principal: Principal, db_session: AsyncSession,
        if_match: IfMatch = None,
    ) -> Response[OrderOut]:
        return await _change(db_session, editing.edit(
            db_session, number, data, principal=principal, if_match=if_match))

    @post("/{number:str}/cancel", opt=allow(MANAGERS), status_code=200,
          summary="Cancel the order, or some units of some lines")
    async def cancel(
        self, number: str, principal: Principal, db_session: AsyncSession,
        data: CancelIn | None = None, if_match: IfMatch = None,
    ) -> Response[OrderOut]:
        return await _change(db_session, _then_money(
            db_session, number, principal, "cancellation",
            actions.cancel(db_session, number, data or CancelIn(), principal=principal,
                           if_match=if_match)))

    @post("/{number:str}/hold", opt=allow(MANAGERS), status_code=200,
          summary="Put the order on hold, with a reason")
    async def hold(
        self, number: str, data: HoldIn, principal: Principal, db_session: AsyncSession,
        if_match: IfMatch = None,
    ) -> Response[OrderOut]:
        return await _change(db_session, actions.hold(
            db_session, number, data, principal=principal, if_match=if_match))

    @post("/{number:str}/release", opt=allow(MANAGERS), status_code=200,
          summary="Release an order from hold")
    async def release(
        self, number: str, principal: Principal, db_session: AsyncSession,
        if_match: IfMatch = None,
    ) -> Response[OrderOut]:
        return await _change(db_session, _then_money(db_session, number, principal, "release",
                                                     actions.release(db_session, number,
                                                                     principal=principal,
                                                                     if_match=if_match)))

    @post("/{number:str}/approve", opt=allow(MANAGERS), status_code=200,
          summary="Approve an order held for suspected fraud: it goes on",
          description="409 not_held_for_fraud when the order is not held for that reason.")
    async def approve(
        self, number: str, principal: Principal, db_session: AsyncSession,
        if_match: IfMatch = None, idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[OrderOut]:
        return await _once(db_session, principal, idempotency_key, f"approve {number}", None,
                           lambda: _then_money(db_session, number, principal, "review",
                                               review.approve(db_session, number,
                                                              principal=principal,
                                                              if_match=if_match)))

    @post("/{number:str}/reject", opt=allow(MANAGERS), status_code=200,
          summary="Reject an order held for suspected fraud: cancelled, its stock released",
          description="409 not_held_for_fraud when the order is not held for that reason.")
    async def reject(
        self, number: str, principal: Principal, db_session: AsyncSession,
        data: RejectIn | None = None, if_match: IfMatch = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[OrderOut]:
        asked = data or RejectIn()
        return await _once(db_session, principal, idempotency_key, f"reject {number}", asked,
                           lambda: _then_money(db_session, number, principal, "cancellation",
                                               review.reject(db_session, number, asked,
                                                             principal=principal,
                                                             if_match=if_match)))

    @post("/{number:str}/notes", opt=allow(STAFF), status_code=200,
          summary="Add a note to the order's timeline")
    async def add_note(
        self, number: str, data: NoteIn, principal: Principal, db_session: AsyncSession
    ) -> Response[OrderOut]:
        return await _change(db_session, actions.add_note(
            db_session, number, data, principal=principal))


async def _then_money(db_session: AsyncSession, number: str, principal: Principal,
                      trigger: str, change: actions.Change) -> OrderOut:
    """A change of the order, then the money follows it (payments.follow_change): an
    approved order a channel charges at capture is charged, a rejected one's authorization
    released."""
    order = await change
    await payments.follow_change(db_session, number, actor=principal.actor, trigger=trigger)
    return order




async def _change(db_session: AsyncSession, change: actions.Change) -> Response[OrderOut]:
    """Run a change, commit it, answer with the order and its new version as ETag."""
    try:
        order = await change
        await db_session.commit()
    except DomainError:
        await db_session.rollback()
        raise
    return _answer(order)


async def _once(
    db_session: AsyncSession, principal: Principal, key: str | None, action: str,
    data: object, change: Callable[[], actions.Change],
) -> Response[OrderOut]:
    """A change applied once per Idempotency-Key (a phone's outbox may send it again), its
    answer with the order's version as ETag."""
    try:
        answered = await answer_once(db_session, principal, key, action="order " + action,
                                     data=data, answer_type=OrderOut, status_code=200,
                                     apply=change)
    except DomainError:
        await db_session.rollback()
        raise
    return _answer(answered.content)


class FraudReviewController(Controller):
    path = "/api/reviews"
    tags = ["orders"]

    @get("/fraud", opt=allow(MANAGERS), summary="Orders held for suspected fraud, newest first",
         description="Each with its score, the channel's threshold, the reasons in the "
                     "caller's language and the customer's other orders (cursor pagination).")
    async def fraud_queue(
        self, request: Request[Any, Any, Any], db_session: AsyncSession,
        cursor: str | None = None, limit: int = 50, lang: Lang = None,
    ) -> FraudReviewPage:
        return await review.fraud_queue(db_session, locale=_locale(request, lang),
                                        cursor=cursor, limit=limit)
