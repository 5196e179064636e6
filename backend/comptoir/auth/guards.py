"""Access declarations and the one guard that enforces them: no declaration, no access."""

from __future__ import annotations

import hmac

from litestar.handlers.base import BaseRouteHandler

from comptoir.auth.schemas import Principal
from comptoir.errors import Forbidden, Unauthorized
from comptoir.web.http import Connection, HttpRequest

__all__ = [
    "ALL",
    "MANAGERS",
    "PUBLIC",
    "STAFF",
    "allow",
    "authorize",
    "declared_access",
    "public",
]

ACCESS_KEY = "access"
PUBLIC = "public"
CSRF_HEADER = "x-csrf-token"
SESSION_COOKIE = "comptoir_session"
CSRF_COOKIE = "comptoir_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

STAFF = frozenset({"admin", "manager", "associate"})
MANAGERS = frozenset({"admin", "manager"})
ALL = frozenset({"admin", "manager", "associate", "channel"})


def allow(*roles: str | frozenset[str]) -> dict[str, object]:
    """``opt=`` for a handler callable by the given roles (names or role sets)."""
    names: set[str] = set()
    for role in roles:
        names.update({role} if isinstance(role, str) else role)
    unknown = names - ALL
    if unknown or not names:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return {ACCESS_KEY: frozenset(names)}


def public() -> dict[str, object]:
    """``opt=`` for a handler anyone may call (health, login, tracking, static files)."""
    return {ACCESS_KEY: PUBLIC}


def declared_access(handler: BaseRouteHandler) -> frozenset[str] | str | None:
    return handler.opt.get(ACCESS_KEY)


async def authorize(
    connection: Connection, handler: BaseRouteHandler
) -> None:
    """Authenticate the caller and check the handler's declared roles; deny by default."""
    access = declared_access(handler)
    path = connection.scope.get("path", "")
    if access is None and handler.handler_name == "options_handler":
        return  # Litestar's automatic OPTIONS answer: it only lists the allowed methods
    if access is None and path.startswith("/schema"):
        access = STAFF  # the OpenAPI document: any signed-in staff member
    if access == PUBLIC:
        return
    if access is None:
        raise Forbidden("This endpoint declares no access rule, so nobody may call it.")
    from comptoir.auth.service import principal_for_connection

    principal = await principal_for_connection(connection)
    if principal is None:
        raise Unauthorized("Sign in, or send an API key as 'Authorization: Bearer <key>'.")
    if principal.kind == "staff" and connection.scope.get("method") in UNSAFE_METHODS:
        _check_csrf(connection)
    if principal.role not in access:
        raise Forbidden(
            f"The role '{principal.role}' may not do this.", allowed_roles=sorted(access)
        )
    connection.state.principal = principal


def _check_csrf(connection: Connection) -> None:
    expected = connection.session.get("csrf") if connection.scope.get("session") else None
    sent = connection.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(str(expected), sent):
        raise Forbidden(
            "Missing or wrong CSRF token: send the X-CSRF-Token header given at sign-in.",
            code="csrf_failed",
        )


def current_principal(request: HttpRequest) -> Principal:
    """Dependency: the caller the guard authenticated."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthorized("Not signed in.")
    return principal  # type: ignore[no-any-return]
