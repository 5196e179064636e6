"""``GET /track/{token}`` (the customer's live page) and ``GET /api/track/{token}`` (its JSON)."""

from __future__ import annotations

import functools
import secrets
import time
from pathlib import Path
from typing import Any

import msgspec
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Controller, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.attempts import AttemptCounter
from comptoir.auth.guards import public
from comptoir.fulfillment import service as fulfillment
from comptoir.orders.models import Order
from comptoir.realtime.service import set_tracking
from comptoir.tracking import service, wording
from comptoir.tracking.proof import PASS_LIFETIME_SECONDS, device_pass, pass_key, pass_opens
from comptoir.tracking.schemas import Arrival, PickupCode, ProofIn, Tracking
from comptoir.web.http import HttpRequest

__all__ = ["PASS_COOKIE", "TrackingController", "register_live_tracking", "security_headers"]

# The device pass of one order (tracking/proof.py). One cookie per order, scoped by its path
# to that order's page and JSON, so it is sent nowhere else; HttpOnly, so no script reads it;
# SameSite=Lax, so it comes along when the customer opens the link from their e-mail.
PASS_COOKIE = "comptoir_pickup_pass"

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_env = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

# One body for every token that tracks nothing, malformed or unknown: it tells nothing.
_NOT_FOUND_JSON = msgspec.json.encode({
    "type": "about:blank", "title": "Not found", "status": 404, "code": "not_found",
    "detail": "Nothing is tracked here.",
})


def register_live_tracking() -> None:
    """Let a ``track:<token>`` subscription on ``/ws`` follow that token's order, seeing only
    that customer-facing events happened."""
    set_tracking(service.tracked_number, service.present_event)


register_live_tracking()


def security_headers(nonce: str | None = None) -> dict[str, str]:
    """No caching (the page is personal), nothing loaded from elsewhere, and the token in the
    URL never leaves in a Referer nor lands in a search engine."""
    inline = f" 'nonce-{nonce}'" if nonce else ""
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self'{inline}; style-src 'self'{inline}; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'"),
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Language",
    }


@functools.cache
def _pass_key(secret_key: str) -> bytes:
    # Settings made by load_settings always have a secret; one built in code may not, and then
    # passes last as long as this process (never signed with an empty key).
    return pass_key(secret_key or secrets.token_urlsafe(48))


def _key(request: HttpRequest) -> bytes:
    return _pass_key(request.app.state.settings.secret_key)


def _proven(request: HttpRequest, order: Order) -> bool:
    """Whether this device showed, on an earlier visit, that it is the order's customer."""
    return pass_opens(_key(request), order.id, request.cookies.get(PASS_COOKIE),
                      int(time.time()))


def _remember(response: Response[Any], request: HttpRequest, order: Order,
              token: str) -> None:
    value = device_pass(_key(request), order.id, int(time.time()))
    secure = request.app.state.settings.base_url.startswith("https://")
    for path in (f"/track/{token}", f"/api/track/{token}"):
        response.set_cookie(PASS_COOKIE, value, max_age=PASS_LIFETIME_SECONDS, path=path,
                            secure=secure, httponly=True, samesite="lax")


class TrackingController(Controller):
    """Public: the token is the only key, and it shows one order in the customer's words."""

    tags = ["tracking"]

    @get("/track/{token:str}", opt=public(), include_in_schema=False,
         media_type="text/html; charset=utf-8")
    async def page(self, request: HttpRequest, db_session: AsyncSession,
                   token: str) -> Response[str]:
        """The tracking page, French or English from ``Accept-Language``, live over ``/ws``."""
        locale = wording.negotiate(request.headers.get("accept-language"))
        order = await service.find_tracked(db_session, token)
        if order is None:
            # No nonce either: the body is the same for every token that tracks nothing.
            body = _env.get_template("tracking/not_found.html").render(
                locale=locale, t=lambda key: wording.text(key, locale))
            return Response(body, status_code=404, media_type="text/html; charset=utf-8",
                            headers=security_headers())
        view = await service.tracking(db_session, order, locale,
                                      proven=_proven(request, order))
        nonce = secrets.token_urlsafe(16)
        qr = (service.qr_svg(view.pickup_code, wording.text("pickup_code", locale))
              if view.pickup_code else None)
        body = _env.get_template("tracking/page.html").render(
            view=view, token=token, qr=qr, nonce=nonce, locale=locale,
            t=lambda key: wording.text(key, locale))
        return Response(body, media_type="text/html; charset=utf-8",
                        headers=security_headers(nonce))

    @get("/api/track/{token:str}", opt=public(), summary="An order followed by its tracking token")
    async def data(self, request: HttpRequest, db_session: AsyncSession,
                   token: str) -> Response[Tracking]:
        """What the tracking page shows, as JSON. An unknown token: 404 with nothing more."""
        locale = wording.negotiate(request.headers.get("accept-language"))
        order = await service.find_tracked(db_session, token)
        if order is None:
            return Response(_NOT_FOUND_JSON, status_code=404,  # type: ignore[arg-type]
                            media_type="application/problem+json", headers=security_headers())
        return Response(await service.tracking(db_session, order, locale,
                                               proven=_proven(request, order)),
                        headers=security_headers())

    @post("/api/track/{token:str}/proof", opt=public(), status_code=200,
          summary="The customer proves it is them and gets the pickup code; this device "
                  "remembers it")
    async def prove(self, request: HttpRequest, db_session: AsyncSession,
                    token: str, data: ProofIn) -> Response[PickupCode]:
        """``answer``: the last four digits of the order's phone number, or its e-mail. A
        right one gives the code and its QR code, and a cookie that opens them on this
        device's next visits. A wrong one is 403 ``wrong_proof`` (with ``attempts_left``);
        after five in a day, 429 ``too_many_attempts``; an order with neither phone nor
        e-mail, 409 ``pickup_code_at_counter``."""
        locale = wording.negotiate(request.headers.get("accept-language"))
        order = await service.find_tracked(db_session, token)
        if order is None:
            return Response(_NOT_FOUND_JSON, status_code=404,  # type: ignore[arg-type]
                            media_type="application/problem+json", headers=security_headers())
        attempts: AttemptCounter = request.app.state.pickup_proof_attempts
        await service.prove_customer(order, data.answer, attempts)
        code = service.pickup_code_for(order)
        response = Response(
            PickupCode(pickup_code=code,
                       qr_svg=str(service.qr_svg(code, wording.text("pickup_code", locale)))),
            headers=security_headers())
        _remember(response, request, order, token)
        return response

    @post("/api/track/{token:str}/arrived", opt=public(), status_code=200,
          summary="The customer is at the store (\"I'm here\"): the store's screen shows it")
    async def arrived(self, request: HttpRequest, db_session: AsyncSession,
                      token: str) -> Response[Arrival]:
        """For a pickup ready at the counter (409 ``not_ready_for_pickup`` otherwise); a
        second tap changes nothing. The token is the only key."""
        locale = wording.negotiate(request.headers.get("accept-language"))
        order = await service.find_tracked(db_session, token)
        if order is None:
            return Response(_NOT_FOUND_JSON, status_code=404,  # type: ignore[arg-type]
                            media_type="application/problem+json", headers=security_headers())
        arrived_at = await fulfillment.customer_arrived(db_session, order.id)
        await db_session.commit()
        return Response(Arrival(arrived_at=arrived_at, message=wording.text("arrived", locale)),
                        headers=security_headers())
