"""Server-side staff sessions that exist only once someone signs in."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

__all__ = ["StaffSessionConfig", "rotate_session_id"]

_ROTATE_KEY = "comptoir.rotate_session"


def rotate_session_id(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Give the session a fresh id when it is saved (at sign-in: no session fixation)."""
    connection.scope[_ROTATE_KEY] = True  # type: ignore[literal-required]


class StaffSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        # Called when the request starts and again when the session is saved: a rotation
        # requested in between (sign-in) gets a new id for the saved session.
        if connection.scope.get(_ROTATE_KEY):
            return self.generate_session_id()
        return super().get_session_id(connection)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        had_cookie = bool(connection.cookies.get(self.config.key, "null") != "null")
        if not scope_session or scope_session is Empty:
            if not had_cookie:
                return  # anonymous traffic (health checks, static files) stores nothing
            scope_session = Empty
        elif connection.scope.get(_ROTATE_KEY) and had_cookie:
            old = connection.cookies[self.config.key]
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


class StaffSessionConfig(ServerSideSessionConfig):
    _backend_class = StaffSessionBackend  # type: ignore[assignment]
