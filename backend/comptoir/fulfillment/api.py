"""Fulfillment endpoints: a location's queue, a pick list, and the work done on it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import STAFF, allow
from comptoir.auth.schemas import Principal
from comptoir.fulfillment import service, third_party
from comptoir.fulfillment.schemas import (
    FulfillmentOut,
    FulfillmentPage,
    HandoverIn,
    RejectIn,
    ShipIn,
)
from comptoir.idempotency import IdempotencyKeyHeader, answer_once

__all__ = ["FulfillmentsController"]


async def _once(
    session: AsyncSession, principal: Principal, key: str | None, action: str, data: object,
    apply: Callable[[], Awaitable[FulfillmentOut]],
) -> Response[FulfillmentOut]:
    """A step of the work, applied once per Idempotency-Key (the PWA's outbox resends)."""
    await third_party.refuse_unsigned_work(principal)
    return await answer_once(session, principal, key, action="fulfillment " + action,
                             data=data, answer_type=FulfillmentOut, status_code=200,
                             apply=apply)


class FulfillmentsController(Controller):
    path = "/api/fulfillments"
    tags = ["fulfillment"]

    @get("/", opt=allow(STAFF), summary="A location's queue (associates: their own)")
    async def list_fulfillments(
        self,
        principal: Principal,
        db_session: AsyncSession,
        location: str | None = None,
        status: str | None = None,
        cursor: str | None = None,
        limit: Annotated[int, QueryParameter(ge=1, le=service.MAX_PAGE)] = 50,
        handed_over_since: Annotated[dt.datetime | None, QueryParameter(
            description="Only what was handed over from this moment on (with a time zone), "
                        "the latest first")] = None,
    ) -> FulfillmentPage:
        page = await service.list_fulfillments(db_session, principal, location=location,
                                               status=status, cursor=cursor, limit=limit,
                                               handed_over_since=handed_over_since)
        await db_session.commit()  # a first read makes the pick lists
        return page

    @get("/{fulfillment_id:uuid}", opt=allow(STAFF), summary="One fulfillment and its pick list")
    async def get_fulfillment(
        self, fulfillment_id: uuid.UUID, principal: Principal, db_session: AsyncSession
    ) -> FulfillmentOut:
        answer = await service.get_fulfillment(db_session, fulfillment_id, principal)
        await db_session.commit()
        return answer

    @post("/{fulfillment_id:uuid}/pick", opt=allow(STAFF), status_code=200,
          summary="Start picking")
    async def pick(
        self, fulfillment_id: uuid.UUID, principal: Principal, db_session: AsyncSession,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[FulfillmentOut]:
        return await _once(db_session, principal, idempotency_key, f"pick {fulfillment_id}",
                           None, lambda: service.pick(db_session, fulfillment_id,
                                                     principal=principal))

    @post("/{fulfillment_id:uuid}/pack", opt=allow(STAFF), status_code=200,
          summary="Packed, ready for the carrier")
    async def pack(
        self, fulfillment_id: uuid.UUID, principal: Principal, db_session: AsyncSession,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[FulfillmentOut]:
        return await _once(db_session, principal, idempotency_key, f"pack {fulfillment_id}",
                           None, lambda: service.pack(db_session, fulfillment_id,
                                                     principal=principal))

    @post("/{fulfillment_id:uuid}/ship", opt=allow(STAFF), status_code=200,
          summary="A parcel leaves (all units left, or the lines given)")
    async def ship(
        self, fulfillment_id: uuid.UUID, data: ShipIn, principal: Principal,
        db_session: AsyncSession, idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[FulfillmentOut]:
        return await _once(db_session, principal, idempotency_key, f"ship {fulfillment_id}",
                           data, lambda: service.ship(db_session, fulfillment_id, data,
                                                      principal=principal))

    @post("/{fulfillment_id:uuid}/ready-for-pickup", opt=allow(STAFF), status_code=200,
          summary="Waiting at the counter: the customer is told, the hold clock starts")
    async def ready_for_pickup(
        self, fulfillment_id: uuid.UUID, principal: Principal, db_session: AsyncSession,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[FulfillmentOut]:
        return await _once(db_session, principal, idempotency_key,
                           f"ready-for-pickup {fulfillment_id}", None,
                           lambda: service.ready_for_pickup(db_session, fulfillment_id,
                                                            principal=principal))

    @post("/{fulfillment_id:uuid}/handover", opt=allow(STAFF), status_code=200,
          summary="Handed over with the pickup code (or a manager's override)")
    async def handover(
        self, fulfillment_id: uuid.UUID, data: HandoverIn, principal: Principal,
        db_session: AsyncSession, idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[FulfillmentOut]:
        return await _once(db_session, principal, idempotency_key, f"handover {fulfillment_id}",
                           data, lambda: service.handover(db_session, fulfillment_id, data,
                                                      principal=principal))

    @post("/{fulfillment_id:uuid}/reject", opt=allow(STAFF), status_code=200,
          summary="Units the location cannot send: re-routed, or cancelled on the order")
    async def reject(
        self, fulfillment_id: uuid.UUID, data: RejectIn, principal: Principal,
        db_session: AsyncSession, idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[FulfillmentOut]:
        return await _once(db_session, principal, idempotency_key, f"reject {fulfillment_id}",
                           data, lambda: service.reject(db_session, fulfillment_id, data,
                                                      principal=principal))

    @post("/{fulfillment_id:uuid}/events", opt=allow(STAFF), status_code=200,
          summary="A 3PL reports a parcel shipped or its tracking (its API key, signed body)",
          description="Signed like the hand-off webhook: Comptoir-Timestamp and "
                      "Comptoir-Signature = v1=hex(HMAC-SHA256(secret, timestamp + '.' + "
                      "body)). Body: {type: shipped|tracking, carrier, service, "
                      "tracking_number, lines?, shipment_id?}.")
    async def third_party_event(
        self, fulfillment_id: uuid.UUID, request: Request[Any, Any, Any], principal: Principal,
        db_session: AsyncSession,
    ) -> FulfillmentOut:
        body = await request.body()
        answer = await third_party.receive_event(db_session, fulfillment_id, body,
                                                 request.headers, principal)
        await db_session.commit()
        return answer
