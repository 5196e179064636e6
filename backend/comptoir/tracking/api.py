"""``GET /track/{token}`` (the customer's live page) and ``GET /api/track/{token}`` (its JSON)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import msgspec
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Controller, Request, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import public
from comptoir.fulfillment import service as fulfillment
from comptoir.realtime.service import set_tracking
from comptoir.tracking import service, wording
from comptoir.tracking.schemas import Arrival, Tracking

__all__ = ["TrackingController", "register_live_tracking", "security_headers"]

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


class TrackingController(Controller):
    """Public: the token is the only key, and it shows one order in the customer's words."""

    tags = ["tracking"]

    @get("/track/{token:str}", opt=public(), include_in_schema=False,
         media_type="text/html; charset=utf-8")
    async def page(self, request: Request[Any, Any, Any], db_session: AsyncSession,
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
        view = await service.tracking(db_session, order, locale)
        nonce = secrets.token_urlsafe(16)
        qr = (service.qr_svg(view.pickup_code, wording.text("pickup_code", locale))
              if view.pickup_code else None)
        body = _env.get_template("tracking/page.html").render(
            view=view, token=token, qr=qr, nonce=nonce, locale=locale,
            t=lambda key: wording.text(key, locale))
        return Response(body, media_type="text/html; charset=utf-8",
                        headers=security_headers(nonce))

    @get("/api/track/{token:str}", opt=public(), summary="An order followed by its tracking token")
    async def data(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                   token: str) -> Response[Tracking]:
        """What the tracking page shows, as JSON. An unknown token: 404 with nothing more."""
        locale = wording.negotiate(request.headers.get("accept-language"))
        order = await service.find_tracked(db_session, token)
        if order is None:
            return Response(_NOT_FOUND_JSON, status_code=404,  # type: ignore[arg-type]
                            media_type="application/problem+json", headers=security_headers())
        return Response(await service.tracking(db_session, order, locale),
                        headers=security_headers())

    @post("/api/track/{token:str}/arrived", opt=public(), status_code=200,
          summary="The customer is at the store (\"I'm here\"): the store's screen shows it")
    async def arrived(self, request: Request[Any, Any, Any], db_session: AsyncSession,
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
