"""Staff sign-in, sign-out and "who am I"."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.datastructures import Cookie

from comptoir.auth import service
from comptoir.auth.guards import ALL, CSRF_COOKIE, SESSION_COOKIE, STAFF, allow, public
from comptoir.auth.schemas import LoginIn, MeOut, Principal
from comptoir.auth.sessions import rotate_session_id
from comptoir.realtime.hub import session_key
from comptoir.web.http import HttpRequest

__all__ = ["AuthController"]


def _client_address(request: HttpRequest) -> str:
    """The address the ASGI server says the request came from.

    Never the ``X-Forwarded-For`` header itself: any client can write one, and a limit keyed
    on it is dodged by sending a new value with each guess. Behind a reverse proxy, the
    server puts the proxy's forwarded address here only when the proxy is trusted
    (uvicorn's ``FORWARDED_ALLOW_IPS``, 127.0.0.1 by default; see README.md).
    """
    return request.client.host if request.client else "unknown"


def _me(principal: Principal, csrf: str | None) -> MeOut:
    return MeOut(
        kind=principal.kind, id=principal.id, name=principal.name, role=principal.role,
        location=principal.location, channel=principal.channel, csrf_token=csrf,
    )


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/login", opt=public(), status_code=200, summary="Sign a staff member in")
    async def login(self, request: HttpRequest, data: LoginIn) -> Response[MeOut]:
        session_data = await service.sign_in(
            request.app.state.sign_in_attempts, username=data.username,
            password=data.password, address=_client_address(request),
        )
        rotate_session_id(request)
        request.set_session(dict(session_data))
        principal = Principal(
            kind="staff", id=str(session_data["uid"]), name=session_data["username"],
            role=session_data["role"], location=session_data["location"],
        )
        return Response(
            _me(principal, session_data["csrf"]),
            cookies=[Cookie(key=CSRF_COOKIE, value=session_data["csrf"], httponly=False,
                            samesite="strict", path="/")],
        )

    @post("/logout", opt=allow(STAFF), status_code=204, summary="Sign out")
    async def logout(self, request: HttpRequest) -> Response[None]:
        request.clear_session()
        session_id = request.cookies.get(SESSION_COOKIE)
        hub = getattr(request.app.state, "realtime", None)
        if session_id and hub is not None:
            # A live-feed connection keeps the identity it was opened with: end it too.
            await hub.sign_out(session_key(session_id))
        return Response(None, status_code=204, cookies=[Cookie(key=CSRF_COOKIE, value="",
                                                               max_age=0, path="/")])

    @get("/me", opt=allow(ALL), summary="Who is signed in")
    async def me(self, request: HttpRequest, principal: Principal) -> MeOut:
        csrf = request.session.get("csrf") if principal.kind == "staff" else None
        return _me(principal, csrf)
