"""Assemble the Litestar application: plugins, routers, static files and the admin mount."""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, asgi
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.types import (
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from comptoir import __version__
from comptoir.attempts import AttemptCounter, MemoryAttempts, RedisAttempts
from comptoir.auth.api import AuthController
from comptoir.auth.guards import (
    SESSION_COOKIE,
    authorize,
    current_principal,
    declared_access,
    public,
)
from comptoir.auth.sessions import SessionStore, StaffSessionConfig, session_store_unavailable
from comptoir.catalog.api import CatalogController
from comptoir.config.admin import build_admin
from comptoir.config.api import ConfigController
from comptoir.config.engine import bind_piccolo, make_piccolo_engine
from comptoir.db.dialect import dialect_for
from comptoir.db.engine import create_engine, dispose, make_sessionmaker
from comptoir.errors import DomainError, exception_handlers
from comptoir.events.dispatcher import OutboxDispatcher, deliver_webhook
from comptoir.events.service import add_event_listener
from comptoir.fulfillment.api import FulfillmentsController
from comptoir.fulfillment.service import NOTIFICATION_HANDLERS, sweep_turn
from comptoir.fulfillment.third_party import hand_off_handlers
from comptoir.idempotency import purge_turn
from comptoir.inventory import service as inventory
from comptoir.inventory.api import InventoryController
from comptoir.invoicing.api import (
    AccountingExportController,
    CreditNotesController,
    InvoicesController,
    OrderInvoicesController,
)
from comptoir.orders.api import FraudReviewController, OrdersController
from comptoir.orders.customers_api import CustomersController
from comptoir.orders.waiting import CapacityWatch
from comptoir.periodic import Periodic
from comptoir.realtime.api import live_feed
from comptoir.realtime.hub import Hub
from comptoir.request_body import StrictBody
from comptoir.routing.api import RoutingController
from comptoir.settings import Settings, load_settings
from comptoir.system.api import SystemController
from comptoir.tracking.api import TrackingController
from comptoir.tracking.service import proof_counter_unavailable
from comptoir.web import spa
from comptoir.web.api_docs import LocalSwaggerPlugin
from comptoir.web.db_session import session_ender
from comptoir.web.head import answer_head_as_get
from comptoir.web.input_guard import MAX_BODY_BYTES, InputGuard
from comptoir.web.suffixes import serve_pdf_suffix

__all__ = ["create_app"]

log = logging.getLogger("comptoir")

CONTROLLERS: list[Any] = [
    SystemController,
    AuthController,
    ConfigController,
    CatalogController,
    InventoryController,
    OrdersController,
    FraudReviewController,
    CustomersController,
    RoutingController,
    TrackingController,
    FulfillmentsController,
    OrderInvoicesController,
    InvoicesController,
    CreditNotesController,
    AccountingExportController,
    live_feed,
]


def _stores(settings: Settings, redis: Any) -> dict[str, Store]:
    if redis is None:
        return {"sessions": MemoryStore()}
    return {"sessions": SessionStore(redis, namespace=f"{settings.redis_prefix}:sessions",
                                     handle_client_shutdown=False)}


def _attempts(redis: Any, namespace: str, unavailable: Callable[[], DomainError]
              ) -> AttemptCounter:
    """Counted in Redis, shared by every process, when there is one; else in this process."""
    return MemoryAttempts() if redis is None else RedisAttempts(redis, namespace, unavailable)


def _check_every_route_declares_access(app: Litestar) -> None:
    undeclared = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if route.path.startswith("/schema") or handler.handler_name == "options_handler":
                continue
            if declared_access(handler) is None:
                undeclared.append(f"{route.path} ({handler.handler_name})")
    if undeclared:
        raise RuntimeError("routes without an access declaration: " + ", ".join(undeclared))


def create_app(settings: Settings | None = None, *, run_dispatcher: bool = True) -> Litestar:
    settings = settings or load_settings()
    engine = create_engine(settings)
    sessionmaker = make_sessionmaker(engine)
    dialect = dialect_for(settings)
    piccolo_engine = make_piccolo_engine(settings)
    bind_piccolo(piccolo_engine)

    redis = None
    if settings.redis_url:
        from redis.asyncio import Redis

        # Bounded waits: a Redis that is down or hung is a quick 503, not a stalled request.
        redis = Redis.from_url(settings.redis_url,
                               socket_connect_timeout=settings.redis_timeout_seconds,
                               socket_timeout=settings.redis_timeout_seconds)

    dispatcher = OutboxDispatcher(
        sessionmaker, {"webhook": deliver_webhook, **NOTIFICATION_HANDLERS,
                       **hand_off_handlers(sessionmaker, events_base=settings.base_url)},
        poll_seconds=settings.outbox_poll_seconds,
    )
    retention = dt.timedelta(hours=settings.idempotency_retention_hours)
    housekeeping = {  # not when COMPTOIR_SWEEP_INTERVAL is 0
        job.name: job for job in (
            Periodic("uncollected-sweeper", partial(sweep_turn, sessionmaker),
                     settings.sweep_interval),
            Periodic("idempotency-key-purger", partial(purge_turn, sessionmaker, retention),
                     settings.sweep_interval),
            # Orders waiting for capacity: at most a minute after a location's day starts
            # or its capacity is raised.
            Periodic("awaiting-capacity-router", CapacityWatch(sessionmaker).turn,
                     min(settings.sweep_interval, 60.0)),
        )
    }
    admin_app = build_admin()
    # The live feed (WS /ws): fans committed events out; through Redis when there is one.
    realtime = Hub(sessionmaker, redis=redis, channel=f"{settings.redis_prefix}:events")

    @asgi("/admin", is_mount=True, copy_scope=True, opt=public(), include_in_schema=False)
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope.get("raw_path", b"").rstrip(b"?") == b"/admin":
            await send(HTTPResponseStartEvent(
                type="http.response.start", status=308,
                headers=[(b"location", b"/admin/"), (b"content-length", b"0")]))
            await send(HTTPResponseBodyEvent(type="http.response.body", body=b"",
                                             more_body=False))
            return
        await admin_app(scope, receive, send)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await dialect.open_piccolo(piccolo_engine)
        if run_dispatcher:
            dispatcher.start()
        for job in housekeeping.values():
            job.start()
        # Captures may route on this process's recent reads until it commits another change.
        stop_forgetting = add_event_listener(inventory.forget_recent_reads)
        # What the app is made of (modules, mappers, routes: a quarter of a million objects)
        # lives as long as it does: full collections need not walk it again. Each one took
        # about 0.1 s, about once every 1,500 captures under a sale's load.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            stop_forgetting()
            for job in housekeeping.values():
                await job.stop()
            await dispatcher.stop()
            await dialect.close_piccolo(piccolo_engine)
            if redis is not None:
                await redis.aclose()
            await dispose(engine)

    database = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_dependency_key="db_session",
        # No advanced-alchemy cache or file-object listeners: nothing here uses them,
        # and they would look up their settings at every commit and flush.
        session_config=AsyncSessionConfig(expire_on_commit=False, info={
            "enable_cache_listener": False, "enable_file_object_listener": False}),
        create_all=False,
    )
    # Its scope key is known once the config is made (unique per config in a process).
    database.before_send_handler = session_ender(database.session_scope_key)
    sqlalchemy = SQLAlchemyPlugin(config=database)
    secure_cookies = settings.base_url.startswith("https://")
    app = Litestar(
        route_handlers=[*CONTROLLERS, admin, *spa.route_handlers(settings)],
        plugins=[sqlalchemy],
        guards=[authorize],
        dependencies={"principal": Provide(current_principal, sync_to_thread=False)},
        dto=StrictBody,  # bodies: JSON types as the schema says ("2" is not a quantity)
        return_dto=None,
        middleware=[
            InputGuard(),  # first: no NUL, broken UTF-8 or deep JSON reaches anything else
            StaffSessionConfig(
                key=SESSION_COOKIE, store="sessions", max_age=12 * 3600, samesite="lax",
                secure=secure_cookies, httponly=True, exclude=["^/admin"],
            ).middleware
        ],
        stores=_stores(settings, redis),
        exception_handlers=exception_handlers,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024,
                                             exclude=["^/admin"]),
        openapi_config=OpenAPIConfig(
            title="Comptoir",
            version=__version__,
            description="Order management for omnichannel retail.",
            path="/schema",
            render_plugins=[LocalSwaggerPlugin()],  # its files are ours: no CDN
        ),
        lifespan=[lifespan, realtime.lifespan],
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "sessionmaker": sessionmaker,
                "redis": redis,
                "dispatcher": dispatcher,
                "housekeeping": housekeeping,
                "realtime": realtime,
                # Wrong answers to the tracking page's "prove it is you", counted per order.
                "pickup_proof_attempts": _attempts(redis, f"{settings.redis_prefix}:tracking",
                                                   proof_counter_unavailable),
                "sign_in_attempts": _attempts(redis, f"{settings.redis_prefix}:signin",
                                              session_store_unavailable),
            }
        ),
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,
    )
    _check_every_route_declares_access(app)
    app.asgi_handler = answer_head_as_get(app.asgi_handler)  # every GET answers HEAD too
    app.asgi_handler = serve_pdf_suffix(app.asgi_handler)  # /api/invoices/FA-….pdf
    return app

