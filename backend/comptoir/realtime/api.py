"""``WS /ws``: the live feed of orders, stores and stock, for staff, systems and customers.

Access is checked here rather than by the app's guard: the guard answers with HTTP errors,
which a websocket that has already been accepted cannot carry, and a customer holding a
tracking token is anonymous yet welcome. So the route is declared public and the handler
authenticates the caller itself (session cookie or ``Authorization: Bearer``), checks the
``Origin``, and then authorizes each topic as it is asked for.

The protocol (JSON text frames):

- client → ``{"subscribe": [topics], "since": <last seq seen or null>}``, later
  ``{"subscribe": [...]}`` / ``{"unsubscribe": [...]}``. Topics: ``orders``,
  ``order:<number>``, ``location:<code>``, ``inventory:<sku>``, ``catalog``,
  ``track:<token>``. ``since`` is read from the first subscription: every event after it
  on the topics comes first, from the log, then live ones; ``null`` means from now.
- server → an event ``{"seq", "topic", "type", "data", "at"}`` (``type`` has a dot:
  ``order.captured``; ``seq`` only grows on a connection, each event once);
  ``{"type": "subscribed", "topics": [...], "seq": n}`` once the backlog is sent (resume
  from ``n`` if no event came); ``{"type": "unsubscribed", "topics": [...]}``;
  ``{"type": "error", "code", "detail", "topic"?}`` with code ``topic_forbidden``,
  ``unknown_topic``, ``too_many_topics`` or ``bad_message`` (the connection stays open);
  ``{"type": "ping"}`` after 20 s of silence.
- close codes: 4401 not signed in (bad API key; anonymous without a granted tracking
  token; the staff session signed out, in any process); 4008 too slow (reconnect with
  ``since``); 1012 server restarting and 1011 internal error (reconnect with ``since``);
  1013 try again later (staff sessions cannot be checked for now: Redis is away; reconnect
  with ``since`` after a while). A page from another origin is refused at the handshake
  (HTTP 403).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from comptoir.auth.guards import SESSION_COOKIE, public
from comptoir.auth.service import principal_for_connection
from comptoir.errors import ServiceUnavailable, Unauthorized
from comptoir.realtime.hub import Hub, Subscriber, session_key
from comptoir.realtime.service import Feed, origin_allowed

__all__ = [
    "CLOSE_FORBIDDEN_ORIGIN",
    "CLOSE_NOT_SIGNED_IN",
    "CLOSE_TRY_AGAIN_LATER",
    "SIGN_IN_SECONDS",
    "live_feed",
]

log = logging.getLogger("comptoir.realtime")

CLOSE_NOT_SIGNED_IN = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
# An anonymous connection has this long to subscribe with a tracking token.
SIGN_IN_SECONDS = 10.0

_NOT_SIGNED_IN = ("Sign in, send an API key as 'Authorization: Bearer <key>', "
                  "or subscribe with a tracking token.")


@websocket("/ws", opt=public(), name="live_feed", include_in_schema=False)
async def live_feed(socket: WebSocket) -> None:  # type: ignore[type-arg]
    """Authenticate, then let the client subscribe; events flow until either side leaves."""
    hub: Hub = socket.app.state.realtime
    settings = socket.app.state.settings
    if not origin_allowed(socket.headers.get("origin"), socket.headers.get("host"),
                          settings.public_url):
        # Refused before the handshake completes: the page gets no connection at all.
        await socket.close(CLOSE_FORBIDDEN_ORIGIN, "This page's origin may not open the feed.")
        return
    try:
        principal = await principal_for_connection(socket)
        refusal = None
    except Unauthorized as exc:  # a wrong or revoked API key
        principal, refusal = None, (CLOSE_NOT_SIGNED_IN, exc.detail)
    except ServiceUnavailable:  # the staff session cannot be checked for now
        principal, refusal = None, (CLOSE_TRY_AGAIN_LATER, "try again later: reconnect with since")
    # Accepted, then closed with a code: refused before the handshake, the browser would
    # only see a failed connection, like a refused origin.
    await socket.accept()
    if refusal is not None:
        await socket.close(refusal[0], refusal[1][:120])
        return
    session = None
    if principal is not None and principal.kind == "staff":
        # Signing out of this session (POST /api/auth/logout) closes the connection.
        session = session_key(socket.cookies.get(SESSION_COOKIE, ""))
    feed = Feed(hub, principal, session)
    sender = asyncio.create_task(_send(socket, feed.subscriber))
    try:
        await _listen(socket, feed)
    finally:
        feed.leave()
        if not sender.done():
            # Let the sender finish a close it was asked for; else the client has gone.
            if feed.subscriber.closing is None:
                sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(sender, 5)


async def _listen(socket: WebSocket, feed: Feed) -> None:  # type: ignore[type-arg]
    """Read the client's messages until it leaves (or its connection is closed)."""
    while True:
        anonymous = feed.principal is None and not feed.follows_anything
        try:
            message = await asyncio.wait_for(socket.receive(),
                                             SIGN_IN_SECONDS if anonymous else None)
        except TimeoutError:
            feed.subscriber.close(CLOSE_NOT_SIGNED_IN, _NOT_SIGNED_IN[:120])
            return
        except WebSocketDisconnect:
            return
        if message["type"] != "websocket.receive":
            return  # websocket.disconnect
        text: str | None = message.get("text")
        try:
            await feed.handle(text if text is not None else message.get("bytes") or b"")
        except Exception:  # the database went away, say: the client reconnects and resumes
            log.exception("live feed: could not answer a subscription")
            feed.subscriber.close(CLOSE_INTERNAL_ERROR, "internal error: reconnect with since")
            return
        if feed.principal is None and not feed.follows_anything:
            feed.subscriber.close(CLOSE_NOT_SIGNED_IN, _NOT_SIGNED_IN[:120])
            return


async def _send(socket: WebSocket, subscriber: Subscriber) -> None:  # type: ignore[type-arg]
    """The connection's only writer: events, answers and pings, in order."""
    send = socket.send
    try:
        while True:
            text = subscriber.next_message()
            if text is not None:
                await send({"type": "websocket.send", "text": text, "bytes": None})
                continue
            if subscriber.closing is not None:
                code, reason = subscriber.closing
                await socket.close(code, reason)
                return
            subscriber.wake.clear()
            await subscriber.wake.wait()
    except (WebSocketDisconnect, OSError):
        return  # the client left
    except Exception:
        log.exception("live feed: sending failed")
        with contextlib.suppress(Exception):
            await socket.close(CLOSE_INTERNAL_ERROR, "internal error: reconnect with since")
    finally:
        # Nobody sends for this connection any more: a backlog reader waiting for room stops.
        subscriber.close(1000, "")
