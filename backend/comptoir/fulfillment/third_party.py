"""3PL locations: the signed hand-off webhook out, and the signed shipped/tracking events in.

A location of kind "3pl" has, in the configuration, a webhook URL and a shared secret. Both
directions are signed the same way (HMAC-SHA256 with that secret):

- ``Comptoir-Timestamp``: the Unix time, in seconds, at which the request was signed;
- ``Comptoir-Signature``: ``v1=`` followed by the lower-case hex HMAC-SHA256 of
  ``<timestamp> + "." + <the raw request body>``.

The receiver recomputes the HMAC over the exact bytes it received, compares in constant
time, and refuses a timestamp more than ``TOLERANCE_SECONDS`` (5 minutes) away from its
clock, so a captured request cannot be replayed later.

Out: ``hand_off`` (``service``) queues one outbox message per 3PL; after commit, the
handler here makes the order's fulfillment at that location and POSTs a JSON body
(``type`` "fulfillment.requested", the fulfillment id, order number, lines with SKUs and
quantities, ship-to address, and the URL to send events to), with ``Comptoir-Delivery``
(the outbox message id, the same on every retry) for de-duplication. Any non-2xx answer is
retried by the outbox with backoff.

In: ``POST /api/fulfillments/{id}/events`` with the 3PL's API key (an associate key whose
location is the 3PL: ``comptoir create-api-key --role associate --location <3PL>``) and the
signature headers. ``{"type": "shipped", "carrier", "service", "tracking_number", "lines"}``
ships (all units left, or the given ``lines``) through the same path as staff do, so the
order's status follows; the same tracking number twice is one parcel. ``{"type":
"tracking", …, "shipment_id"}`` corrects a parcel's carrier and number (the last parcel
when no id is given). A missing or wrong signature is refused with 401 and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal

import httpx
import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.auth.schemas import Principal
from comptoir.config import service as config
from comptoir.db.base import utcnow
from comptoir.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from comptoir.events.dispatcher import Delivery
from comptoir.events.service import record_event
from comptoir.events.types import EventType
from comptoir.fulfillment import service, states
from comptoir.fulfillment.models import Fulfillment, Shipment
from comptoir.fulfillment.schemas import FulfillmentOut, ShipIn, UnitsIn
from comptoir.orders import lifecycle
from comptoir.orders.models import Order, OrderLine

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_SECONDS",
    "HandOffFailed",
    "ThirdPartyEventIn",
    "hand_off_handlers",
    "receive_event",
    "sign",
    "verify",
]

log = logging.getLogger("comptoir.fulfillment.3pl")

SIGNATURE_HEADER = "comptoir-signature"
TIMESTAMP_HEADER = "comptoir-timestamp"
DELIVERY_HEADER = "comptoir-delivery"
TOLERANCE_SECONDS = 300


# --- the signature (pure) ----------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=`` + hex HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Refuse (401, with a code) a request whose signature is missing, stale or wrong."""
    timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
    signature = headers.get(SIGNATURE_HEADER, "").strip()
    if not timestamp or not signature:
        raise Unauthorized("Sign the request: Comptoir-Timestamp and Comptoir-Signature headers "
                           "(HMAC-SHA256 with the location's shared secret).",
                           code="signature_missing")
    try:
        moment = int(timestamp)
    except ValueError:
        raise Unauthorized("Comptoir-Timestamp is Unix time in whole seconds.",
                           code="signature_bad_timestamp") from None
    if abs(now - moment) > TOLERANCE_SECONDS:
        raise Unauthorized(f"Comptoir-Timestamp is more than {TOLERANCE_SECONDS} s away from "
                           "Comptoir's clock: sign each request when sending it.",
                           code="signature_expired")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode()):
        raise Unauthorized("The signature does not match this body and timestamp.",
                           code="signature_mismatch")


# --- out: the hand-off ----------------------------------------------------------------------------


class HandOffFailed(Exception):
    """The hand-off cannot be delivered now; the outbox tries again later."""


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


_SENDABLE = (lifecycle.Status.CONFIRMED.value, lifecycle.Status.IN_FULFILLMENT.value)


async def _request(session: AsyncSession, order_id: uuid.UUID, location: str,
                   events_base: str) -> dict[str, Any] | None:
    """The body telling ``location`` what to send for the order; None when there is nothing
    (left) to send there. Makes the fulfillment when the order has none at the location."""
    order = await session.get(Order, order_id)
    if order is None or order.status == lifecycle.Status.CANCELLED.value:
        return None
    if order.status == lifecycle.Status.ON_HOLD.value:
        # Retried with backoff: the order goes out once it is released.
        raise HandOffFailed(f"{order.number} is on hold; not handed to {location} yet")
    if order.status in _SENDABLE:
        await service.materialise(session, location, order_id)
    fulfillment = await session.scalar(
        select(Fulfillment).where(Fulfillment.order_id == order_id,
                                  Fulfillment.location == location,
                                  Fulfillment.status.in_([s.value for s in states.OPEN]))
        .order_by(Fulfillment.created_at, Fulfillment.id).limit(1))
    if fulfillment is None:
        return None
    lines = [line for line in await service.sync_lines(session, fulfillment) if line.quantity]
    if not lines:
        return None
    ordered = {line.id: line for line in await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id))}
    return {
        "type": "fulfillment.requested",
        "fulfillment_id": str(fulfillment.id),
        "order_number": order.number,
        "location": location,
        "delivery_method": order.delivery_method,
        "lines": [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
                   **({"unit_price": ordered[line.line_id].unit_price, "currency": order.currency}
                      if line.line_id in ordered else {})}
                  for line in lines],
        "ship_to": order.ship_to,
        "customer": {"name": order.customer_name, "email": order.customer_email,
                     "phone": order.customer_phone},
        "events_url": f"{events_base}/api/fulfillments/{fulfillment.id}/events",
    }


async def _post(url: str, secret: str, body: bytes, delivery_id: uuid.UUID,
                client: httpx.AsyncClient | None) -> None:
    timestamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        "user-agent": "Comptoir-3PL/1",
    }
    own = client is None
    http = client or httpx.AsyncClient(timeout=10, verify=_tls_context())
    try:
        response = await http.post(url, content=body, headers=headers)
        response.raise_for_status()  # redirects too: the URL in the configuration is the one
    finally:
        if own:
            await http.aclose()


async def deliver_hand_off(
    sessionmaker: async_sessionmaker[AsyncSession], delivery: Delivery, *, events_base: str,
    client: httpx.AsyncClient | None = None,
) -> None:
    """The outbox handler of a hand-off: make the fulfillment, commit, POST it signed."""
    location = str(delivery.payload["location"])
    endpoint = await config.third_party(location)
    if endpoint is None:
        log.warning("hand-off of %s dropped: %s is no longer a 3PL",
                    delivery.payload.get("order_number"), location)
        return
    if not endpoint.url or not endpoint.secret:
        raise HandOffFailed(f"{location} has no webhook URL or shared secret configured")
    async with sessionmaker() as session, session.begin():
        request = await _request(session, uuid.UUID(str(delivery.payload["order_id"])),
                                 location, events_base)
    if request is None:
        log.info("hand-off of %s to %s: nothing to send", delivery.payload.get("order_number"),
                 location)
        return
    await _post(endpoint.url, endpoint.secret, msgspec.json.encode(request), delivery.id, client)
    async with sessionmaker() as session, session.begin():
        await record_event(session, topic="order", type=EventType.FULFILLMENT_SENT_TO_3PL,
                           subject=request["order_number"],
                           actor=str(delivery.payload.get("actor") or service.SYSTEM.actor),
                           data={"fulfillment_id": request["fulfillment_id"],
                                 "locations": [location], "delivery_id": str(delivery.id)})


def hand_off_handlers(
    sessionmaker: async_sessionmaker[AsyncSession], *, events_base: str,
    client: httpx.AsyncClient | None = None,
) -> dict[str, Callable[[Delivery], Awaitable[None]]]:
    """The outbox handlers of this module, for the dispatcher (wired in ``app.py``)."""

    async def handle(delivery: Delivery) -> None:
        await deliver_hand_off(sessionmaker, delivery, events_base=events_base, client=client)

    return {service.HAND_OFF: handle}


# --- in: shipped and tracking events ---------------------------------------------------------


class ThirdPartyEventIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a 3PL reports: a parcel left ("shipped"), or a parcel's tracking ("tracking")."""

    type: Literal["shipped", "tracking"]
    carrier: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    service: Annotated[str, msgspec.Meta(max_length=60)] = ""
    tracking_number: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    lines: list[UnitsIn] | None = None  # shipped: only these units (a partial shipment)
    shipment_id: uuid.UUID | None = None  # tracking: which parcel (the last one if none)


async def refuse_unsigned_work(principal: Principal) -> None:
    """A 3PL's own API key reports its work through signed events only (``receive_event``):
    the key alone, without the shared secret, cannot move a fulfillment. Staff can, from the
    app (a manager taking over when a 3PL's reports stopped)."""
    if principal.kind != "api_key" or not principal.location:
        return
    endpoint = await config.third_party(principal.location)
    if endpoint is not None:
        raise Forbidden(
            f"{principal.location} reports its work as signed events: POST "
            "/api/fulfillments/{id}/events with Comptoir-Timestamp and Comptoir-Signature.",
            code="signed_events_only")


async def receive_event(
    session: AsyncSession, fulfillment_id: uuid.UUID, body: bytes, headers: Mapping[str, str],
    principal: Principal, now: dt.datetime | None = None,
) -> FulfillmentOut:
    """A 3PL's signed event about one of its fulfillments; repeated deliveries change nothing."""
    if principal.kind != "api_key" or not principal.location:
        raise Forbidden("Fulfillment events come from a 3PL's API key, tied to its location.",
                        code="not_a_3pl_key")
    endpoint = await config.third_party(principal.location)
    if endpoint is None or not endpoint.secret:
        raise Forbidden(f"{principal.location} is not a 3PL with a shared secret.",
                        code="not_a_3pl")
    verify(endpoint.secret, headers, body, (now or utcnow()).timestamp())
    try:
        event = msgspec.json.decode(body, type=ThirdPartyEventIn)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidInput(f"Not a fulfillment event: {exc}", code="invalid_event") from None
    found = await session.get(Fulfillment, fulfillment_id)
    if found is None:
        raise NotFound(f"No fulfillment {fulfillment_id}.", code="fulfillment_not_found")
    if found.location != principal.location:
        raise Forbidden("This key reports on its own location's fulfillments only.",
                        code="other_location")
    # The order's lock first (the lock order of every fulfillment action): two deliveries of
    # one event are taken one after the other, and the second finds the parcel there.
    await session.execute(select(Order.id).where(Order.id == found.order_id).with_for_update())
    parcels = list(await session.scalars(
        select(Shipment).where(Shipment.fulfillment_id == fulfillment_id)
        .order_by(Shipment.shipped_at, Shipment.id)))
    number = event.tracking_number.strip()
    if event.type == "tracking":
        return await _update_tracking(session, found, parcels, event, principal)
    if any(parcel.tracking_number == number for parcel in parcels):
        return await service.get_fulfillment(session, fulfillment_id, principal)
    await service.carrier_for(event.carrier)  # refused before anything moves
    # A 3PL picks and packs on its own side: the fulfillment walks there first.
    if found.status == states.Status.NEW.value:
        await service.pick(session, fulfillment_id, principal=principal)
    if found.status == states.Status.PICKING.value and found.kind == "ship":
        await service.pack(session, fulfillment_id, principal=principal)
    return await service.ship(session, fulfillment_id, ShipIn(
        carrier=event.carrier, service=event.service, tracking_number=number,
        lines=event.lines), principal=principal)


async def _update_tracking(
    session: AsyncSession, fulfillment: Fulfillment, parcels: list[Shipment],
    event: ThirdPartyEventIn, principal: Principal,
) -> FulfillmentOut:
    if event.shipment_id is not None:
        parcel = next((p for p in parcels if p.id == event.shipment_id), None)
        if parcel is None:
            raise NotFound(f"No parcel {event.shipment_id} in this fulfillment.",
                           code="shipment_not_found")
    elif parcels:
        parcel = parcels[-1]
    else:
        raise Conflict("Nothing has left this fulfillment yet: send a 'shipped' event.",
                       code="nothing_shipped")
    carrier = await service.carrier_for(event.carrier)
    number = event.tracking_number.strip()
    wanted = (carrier.code.strip().lower(), event.service or parcel.service, number)
    if (parcel.carrier, parcel.service, parcel.tracking_number) != wanted:
        before = parcel.tracking_number
        parcel.carrier, parcel.service, parcel.tracking_number = wanted
        parcel.tracking_url = states.tracking_url(carrier.tracking_url_template, number)
        fulfillment.updated_at = utcnow()
        await record_event(session, topic="order", type=EventType.FULFILLMENT_TRACKING_UPDATED,
                           subject=fulfillment.order_number, actor=principal.actor,
                           data={"fulfillment_id": str(fulfillment.id),
                                 "locations": [fulfillment.location],
                                 "shipment_id": str(parcel.id), "carrier": parcel.carrier,
                                 "tracking_number": number, "previous_tracking_number": before,
                                 "tracking_url": parcel.tracking_url})
        await session.flush()
    return await service.get_fulfillment(session, fulfillment.id, principal)
