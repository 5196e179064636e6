"""The request and connection types Comptoir's handlers, guards and middleware are given.

Comptoir keeps no user or auth object on the connection (the principal is a dependency,
``auth.guards.current_principal``), so those parameters are ``object``, not ``Any``.
"""

from __future__ import annotations

from typing import TypeVar

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State

__all__ = ["Connection", "HttpOrWebSocket", "HttpRequest", "Route"]

HttpRequest = Request[object, object, State]
# Any connection, as a guard or a middleware sees it (the route handler is not known).
Connection = ASGIConnection[object, object, object, State]
# A connection whose handler is known: an HTTP request or a websocket.
Route = TypeVar("Route")
HttpOrWebSocket = ASGIConnection[Route, object, object, State]
