"""Server-side staff sessions that exist only once someone signs in, and that say "try again
in a moment" (503 ``session_store_unavailable``) rather than fail while Redis is away."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.redis import RedisStore
from litestar.types import Empty, Message, Send
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from comptoir.errors import ServiceUnavailable, problem
from comptoir.web.http import Connection, HttpOrWebSocket, HttpRequest, Route

__all__ = [
    "SESSION_STORE_RETRY_SECONDS",
    "SessionStore",
    "StaffSessionConfig",
    "refuse_if_session_store_was_unavailable",
    "rotate_session_id",
    "session_store_refusals",
    "session_store_unavailable",
]

log = logging.getLogger("comptoir.auth")

# A Redis restart or failover takes a few seconds; the PWA retries by itself after this.
SESSION_STORE_RETRY_SECONDS = 2

_ROTATE_KEY = "comptoir.rotate_session"
_UNAVAILABLE_KEY = "comptoir.session_store_unavailable"
_LOADED_KEY = "comptoir.session_loaded"


def session_store_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "Signing in and staff sessions are unavailable for a moment (the session store does "
        "not answer); nothing was changed. Try again in a few seconds.",
        code="session_store_unavailable",
        headers={"Retry-After": str(SESSION_STORE_RETRY_SECONDS)},
    )


@contextmanager
def session_store_refusals() -> Iterator[None]:
    """Inside: Redis not answering (down, restarting, too slow) is a 503 refusal."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.warning("session store unavailable: %s", exc)
        raise session_store_unavailable() from exc


class SessionStore(RedisStore):
    """Litestar's Redis store, where Redis being away is a refusal to retry, not an error."""

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        with session_store_refusals():
            return await super().get(key, renew_for)

    async def set(self, key: str, value: str | bytes,
                  expires_in: int | timedelta | None = None) -> None:
        with session_store_refusals():
            await super().set(key, value, expires_in)

    async def delete(self, key: str) -> None:
        with session_store_refusals():
            await super().delete(key)


def rotate_session_id(connection: HttpOrWebSocket[Route]) -> None:
    """Give the session a fresh id when it is saved (at sign-in: no session fixation)."""
    connection.scope[_ROTATE_KEY] = True  # type: ignore[literal-required]


def refuse_if_session_store_was_unavailable(
    connection: HttpOrWebSocket[Route],
) -> None:
    """The caller sent a session cookie the store could not be asked about: refuse (503)
    rather than take them for someone signed out."""
    if connection.scope.get(_UNAVAILABLE_KEY):
        raise session_store_unavailable()


class StaffSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: Connection) -> str:
        # Called when the request starts and again when the session is saved: a rotation
        # requested in between (sign-in) gets a new id for the saved session.
        if connection.scope.get(_ROTATE_KEY):
            return self.generate_session_id()
        return super().get_session_id(connection)

    async def load_from_connection(
        self, connection: Connection
    ) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if not session_id:
            return {}
        store = self.config.get_store_from_app(connection.scope["app"])
        try:
            data = await self.get(session_id, store=store)
        except ServiceUnavailable:
            # Not refused here: a page that needs nobody's session (the app shell, /health,
            # tracking) is still served; whoever needs the session is refused when asked
            # who is calling (refuse_if_session_store_was_unavailable).
            connection.scope[_UNAVAILABLE_KEY] = True  # type: ignore[literal-required]
            return {}
        if data is None:
            return {}
        connection.scope[_LOADED_KEY] = data  # type: ignore[literal-required]
        return self.deserialize_data(data)

    def _changed(self, scope_session: Any, connection: Connection
                 ) -> bool:
        """Whether saving the session records something new (a sign-in or sign-out, new
        data), rather than renewing what the store already holds."""
        loaded = connection.scope.get(_LOADED_KEY)
        if connection.scope.get(_ROTATE_KEY):
            return True
        if not scope_session or scope_session is Empty:
            return loaded is not None
        return self.serialize_data(scope_session, connection.scope) != loaded

    async def store_in_message(
        self,
        scope_session: Any,
        message: Message,
        connection: Connection,
    ) -> None:
        if connection.scope.get(_UNAVAILABLE_KEY):
            return  # nothing was read, so nothing is written: an empty session is no sign-out
        had_cookie = bool(connection.cookies.get(self.config.key, "null") != "null")
        if not scope_session or scope_session is Empty:
            if not had_cookie:
                return  # anonymous traffic (health checks, static files) stores nothing
            scope_session = Empty
        elif connection.scope.get(_ROTATE_KEY) and had_cookie:
            old = connection.cookies[self.config.key]
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        try:
            await super().store_in_message(scope_session, message, connection)
        except ServiceUnavailable:
            if self._changed(scope_session, connection):
                raise  # a sign-in or sign-out that did not happen: the caller must know
            # Only the renewal of an unchanged session was lost; the answer stands.


class StaffSessionMiddleware(SessionMiddleware[StaffSessionBackend]):
    """Saves the session as the answer starts; when that fails, the answer becomes the 503
    refusal (the handler's own answer would claim a sign-in or sign-out that did not
    happen), and the handler's body is dropped."""

    def create_send_wrapper(self, connection: Connection) -> Send:
        refused = False

        async def send(message: Message) -> None:
            nonlocal refused
            if refused:
                return
            if message["type"] != "http.response.start":
                await connection.send(message)
                return
            try:
                await self.backend.store_in_message(connection.scope.get("session"), message,
                                                    connection)
            except ServiceUnavailable as refusal:
                refused = True
                request: HttpRequest = Request(connection.scope, connection.receive)
                headers = refusal.extra.get("headers")
                answer = problem(request, refusal.status_code, refusal.code, refusal.title,
                                 refusal.detail, headers)
                await answer.to_asgi_response(app=None, request=request)(
                    connection.scope, connection.receive, connection.send)
                return
            await connection.send(message)

        return send


class StaffSessionConfig(ServerSideSessionConfig):
    _backend_class = StaffSessionBackend

    @property
    def middleware(self) -> DefineMiddleware:
        return DefineMiddleware(StaffSessionMiddleware, backend=self._backend_class(config=self))
