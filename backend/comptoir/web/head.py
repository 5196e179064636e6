"""HEAD answered like GET, without the body: monitors and link checkers send HEAD."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["answer_head_as_get"]


def answer_head_as_get(app: ASGIApp) -> ASGIApp:
    """Wrap the app (before routing, which picks handlers by method) so HEAD runs the GET.

    Litestar answers HEAD with 405 unless a route declares a separate HEAD handler, and a
    HEAD handler may not return a body, so one GET handler cannot serve both. Here the GET
    runs, its status and headers (Content-Length included, as RFC 9110 asks) go out, and
    the body is dropped.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] == "HEAD":
            # In place, not a copy: what the handler leaves in the scope (the database
            # session) must stay visible to the before-send hooks, which hold this scope.
            scope["method"] = "GET"
            await app(scope, receive, _headers_only(send))
            return
        await app(scope, receive, send)

    return wrapped


def _headers_only(send: Send) -> Send:
    async def forward(message: Message) -> None:
        if message["type"] == "http.response.start":
            await send(message)
        elif not message.get("more_body", False):  # the last chunk
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return forward
