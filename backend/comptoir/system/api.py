"""``/health`` says the process is up; ``/ready`` that its database (and Redis) answer."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from sqlalchemy import text

from comptoir import __version__
from comptoir.auth.guards import public

__all__ = ["SystemController"]


class Health(msgspec.Struct, frozen=True):
    status: str
    version: str


class Readiness(msgspec.Struct, frozen=True):
    status: str
    database: str
    redis: str


class SystemController(Controller):
    tags = ["system"]

    @get("/health", opt=public(), summary="Liveness", cache_control=None)
    async def health(self) -> Health:
        return Health(status="ok", version=__version__)

    @get("/ready", opt=public(), summary="Readiness: database and Redis reachable")
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Readiness]:
        state = request.app.state
        database = "ok"
        try:
            async with state.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not ready", reported, never raised
            database = f"error: {type(exc).__name__}"
        redis_state = "not configured"
        if state.redis is not None:
            try:
                await state.redis.ping()
                redis_state = "ok"
            except Exception as exc:
                redis_state = f"error: {type(exc).__name__}"
        ok = database == "ok" and redis_state in {"ok", "not configured"}
        return Response(
            Readiness(status="ok" if ok else "unavailable", database=database, redis=redis_state),
            status_code=200 if ok else 503,
        )
