"""Order endpoints: capture, read, list, and the changes staff make to an order."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import HeaderParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import ALL, MANAGERS, STAFF, allow, current_principal
from comptoir.auth.schemas import Principal
from comptoir.errors import DomainError
from comptoir.orders import actions, capture, reading, search
from comptoir.orders import edit as editing
from comptoir.orders.schemas import (
    CancelIn,
    EditIn,
    EventOut,
    HoldIn,
    NoteIn,
    OrderDetailOut,
    OrderIn,
    OrderOut,
    OrderPage,
)
from comptoir.payments import service as payments

__all__ = ["OrdersController"]

IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False)]


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
                await payments.release_unused(db_session, refusal.code, data.payment,
                                              data.channel or principal.channel)
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

    @get("/{number:str}", opt=allow(ALL), summary="One order with its lines and timeline")
    async def get_order(
        self, number: str, principal: Principal, db_session: AsyncSession
    ) -> Response[OrderDetailOut]:
        order = await reading.order_detail(db_session, number, principal)
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
        return await _change(db_session, _cancel(
            db_session, number, data or CancelIn(), principal=principal, if_match=if_match))

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
        return await _change(db_session, actions.release(
            db_session, number, principal=principal, if_match=if_match))

    @post("/{number:str}/notes", opt=allow(STAFF), status_code=200,
          summary="Add a note to the order's timeline")
    async def add_note(
        self, number: str, data: NoteIn, principal: Principal, db_session: AsyncSession
    ) -> Response[OrderOut]:
        return await _change(db_session, actions.add_note(
            db_session, number, data, principal=principal))


async def _cancel(db_session: AsyncSession, number: str, data: CancelIn, *,
                  principal: Principal, if_match: str | None) -> OrderOut:
    """Cancel, then let the money follow: what the cancelled units held is released."""
    order = await actions.cancel(db_session, number, data, principal=principal,
                                 if_match=if_match)
    await payments.follow_cancellation(db_session, number, actor=principal.actor)
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
