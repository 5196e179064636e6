"""Find an order by its tracking token and tell its holder what a customer may know of it."""

from __future__ import annotations

import re
from typing import Any

import segno
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.attempts import AttemptCounter
from comptoir.config import service as config
from comptoir.errors import Conflict, Forbidden, ServiceUnavailable, TooManyRequests
from comptoir.events.service import events_after
from comptoir.fulfillment import service as fulfillment
from comptoir.orders import reading as orders
from comptoir.orders.models import Order
from comptoir.tracking import wording
from comptoir.tracking.masking import mask_name, mask_street
from comptoir.tracking.proof import (
    Proof,
    accepted_proofs,
    answer_matches,
    proof_subject,
    read_answer,
)
from comptoir.tracking.schemas import (
    PickupCodeAccess,
    TrackedAddress,
    TrackedLine,
    TrackedStep,
    TrackedStore,
    Tracking,
)
from comptoir.tracking.wording import Locale

__all__ = [
    "DEFAULT_TIMEZONE",
    "find_tracked",
    "pickup_code_for",
    "present_event",
    "proof_counter_unavailable",
    "prove_customer",
    "qr_svg",
    "tracked_number",
    "tracking",
]

# Where times are shown when the order is not picked up in a store with its own time zone.
DEFAULT_TIMEZONE = "Europe/Paris"
# Tokens are ``secrets.token_urlsafe``: anything else is answered without a lookup.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_TIMELINE_LIMIT = 1000


async def find_tracked(session: AsyncSession, token: str) -> Order | None:
    """The order this token tracks, or None: one indexed lookup on the unique token."""
    if not _TOKEN.match(token):
        return None
    order: Order | None = await session.scalar(
        select(Order).where(Order.tracking_token == token))
    return order


async def tracked_number(session: AsyncSession, token: str) -> str | None:
    """For the live feed: the order number a ``track:<token>`` subscription follows."""
    return await session.scalar(
        select(Order.number).where(Order.tracking_token == token)) if _TOKEN.match(token) else None


def present_event(event_type: str, _data: dict[str, Any]) -> dict[str, Any] | None:
    """What a token holder receives of a live event: that a customer-facing one happened, and
    nothing of its data (hold reasons, notes and actors stay inside); other events not at all.
    The page then reads the order again from ``GET /api/track/{token}``."""
    return {} if wording.shown_to_customer(event_type) else None


def pickup_code_for(order: Order) -> str:
    """What the customer quotes or shows at the counter: the order's pickup code (the one the
    store scans at handover), or its number for an order captured before codes existed."""
    return order.pickup_code or order.number


def _pickup_code_access(
    order: Order, proofs: tuple[Proof, ...], proven: bool,
) -> PickupCodeAccess | None:
    if order.delivery_method != "pickup":
        return None
    if not proofs:
        return "at_counter"
    return "shown" if proven else "proof_needed"


async def prove_customer(order: Order, answer: str, attempts: AttemptCounter) -> None:
    """Let the page show the pickup code to whoever typed the last four digits of the order's
    phone or its e-mail; refuse anything else, and more than a few wrong answers a day."""
    if order.delivery_method != "pickup":
        raise Conflict("This order is delivered, not picked up: it has no pickup code.",
                       code="not_a_pickup")
    if not accepted_proofs(order.customer_phone, order.customer_email):
        raise Conflict("This order has no phone number or e-mail to check: its customer gets "
                       "it at the counter, with an ID.", code="pickup_code_at_counter")
    proof, value = read_answer(answer)  # unreadable: refused, not counted
    subject = proof_subject(order.id)
    admission = await attempts.admit([subject])  # counted before the answer is looked at
    if not admission.allowed:
        raise TooManyRequests(
            "Too many wrong answers for this order; try again later, use the code in the "
            "ready-for-pickup e-mail, or show an ID at the counter.",
            code="too_many_attempts", headers={"Retry-After": str(admission.retry_after)})
    if answer_matches(proof, value, order.customer_phone, order.customer_email):
        await attempts.succeeded([subject])  # only wrong answers use up the allowance
        return
    raise Forbidden("This does not match the order's phone number or e-mail.",
                    code="wrong_proof", attempts_left=admission.left)


def proof_counter_unavailable() -> ServiceUnavailable:
    """Redis does not answer: no answer can be checked now."""
    return ServiceUnavailable("Your answer cannot be checked right now; try again in a minute.",
                              code="attempt_counter_unavailable", headers={"Retry-After": "30"})


def qr_svg(code: str, label: str) -> Markup:
    """The pickup code as an inline SVG QR code (no script, no image request)."""
    qr = segno.make(code, error="m", micro=False)
    return Markup(qr.svg_inline(scale=5, title=label, svgclass="qr", lineclass=None))


async def tracking(session: AsyncSession, order: Order, locale: Locale, *,
                   proven: bool = False) -> Tracking:
    """Everything the tracking page shows, in the customer's words and language: the address
    masked, the pickup code only to a device that ``proven`` it is the customer's."""
    lines, _allocations = await orders.lines_and_allocations(session, order.id)
    money = order.currency
    store = None
    timezone = DEFAULT_TIMEZONE
    if order.delivery_method == "pickup" and order.pickup_location:
        location = await config.get_location(order.pickup_location)
        if location is not None:
            timezone = location.timezone or DEFAULT_TIMEZONE
            store = TrackedStore(
                name=location.name, address_line1=location.address_line1,
                address_line2=location.address_line2, postal_code=location.postal_code,
                city=location.city, country=location.country,
                opening_hours=location.opening_hours)
    address = None
    if order.delivery_method == "ship" and order.ship_to:
        ship_to = order.ship_to
        address = TrackedAddress(
            name=mask_name(str(ship_to.get("name", "") or "")),
            line1=mask_street(str(ship_to.get("line1", "") or "")),
            line2=mask_street(str(ship_to.get("line2", "") or "")),
            postal_code=str(ship_to.get("postal_code", "")), city=str(ship_to.get("city", "")),
            country=str(ship_to.get("country", "")))
    events = await events_after(session, 0, topic="order", subject=order.number,
                                limit=_TIMELINE_LIMIT)
    timeline = []
    last_seq = 0
    for event in events:
        last_seq = max(last_seq, event.seq or 0)
        label = wording.event_label(event.type, locale)
        if label is None:
            continue
        timeline.append(TrackedStep(
            seq=event.seq or 0, type=event.type, label=label, at=event.at,
            at_text=wording.format_date(event.at, timezone, locale)))
    waiting, arrived_at = (
        await fulfillment.counter_check_in(session, order.id)
        if order.delivery_method == "pickup" and order.status == "ready_for_pickup"
        else (False, None))
    proofs = accepted_proofs(order.customer_phone, order.customer_email)
    access = _pickup_code_access(order, proofs, proven)
    # Shipping as the customer paid it: tax included when the channel prices that way.
    shipping = order.shipping + order.shipping_tax
    return Tracking(
        number=order.number, locale=locale, status=order.status,
        status_label=wording.status_label(order.status, order.delivery_method, locale),
        placed_at=order.created_at, currency=money,
        lines=[TrackedLine(
            name=line.name, quantity=line.quantity - line.cancelled_quantity,
            cancelled_quantity=line.cancelled_quantity, unit_price=line.unit_price,
            total=line.total,
            unit_price_text=wording.format_money(line.unit_price, money, locale),
            total_text=wording.format_money(line.total, money, locale),
        ) for line in lines],
        shipping=shipping, total=order.total,
        shipping_text=wording.format_money(shipping, money, locale),
        total_text=wording.format_money(order.total, money, locale),
        delivery_method=order.delivery_method, address=address, store=store,
        pickup_code=pickup_code_for(order) if access == "shown" else None,
        pickup_code_access=access,
        proof_by=list(proofs) if access == "proof_needed" else [],
        timeline=timeline, seq=last_seq,
        can_check_in=waiting and arrived_at is None, arrived_at=arrived_at,
    )
