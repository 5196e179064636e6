"""Schemathesis over the whole API, in-process: no request it can make gets a server error.

It reads the app's own OpenAPI document (``/schema/openapi.json``) and sends every operation
examples, boundary and negative cases (coverage) and random ones (fuzzing), with a fixed seed,
signed in as an admin (session cookie and CSRF token), through ASGI: no server, no socket. The
stateful phase is left out: it chains calls at random, which costs minutes and is not repeatable.
Generated values are mixed with hostile ones (a NUL, huge numbers) and with the identifiers of
a small shop made first, so cases get past "not found" into the handlers' own checks.

The app runs on the test session's event loop (its database pools live there), while
schemathesis drives it from a thread of its own with a loop of its own; ``_on_loop`` carries
each request across. The run prints one line to quote::

    schemathesis: 46 operations, 4,047 cases, 0 failures, 0 errors (seed 20261210, 80 s)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis

from tests.conftest import World, sign_in
from tests.orders.conftest import order_body, pickup

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SEED = 20261210
# Cases per operation and phase: enough to hit every parameter with bad values, bounded so a
# run on two busy cores stays within a few minutes.
MAX_EXAMPLES = 50

ASGIApp = Callable[..., Any]

# Values that broke Comptoir before (a NUL that PostgreSQL refuses, numbers past a column's
# range, text longer than any field), mixed into generated strings and integers so that a
# bounded run meets them. Headers carry them too, so they stay within Latin-1, without CR/LF.
HOSTILE_TEXT = ["\x00", "TEE\x00", "\x00" * 3, "%00", "caf\xe9\x00", "\x7f", "\xff",
                "' OR 1=1 --", "../../etc/passwd", "\\", '"', "{}", "[]", "null", "-1",
                "9223372036854775808", "1e400", "NaN", " ", "A" * 300, "A" * 5000]
HOSTILE_NUMBERS = [-1, 0, 2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, 2**63,
                   -(2**63) - 1, 10**30]


def _on_loop(app: ASGIApp, loop: asyncio.AbstractEventLoop) -> ASGIApp:
    """``app`` as an ASGI app callable from another event loop: each request runs on ``loop``.

    The body is read on the caller's side, the request runs whole on ``loop``, and the
    response's messages are replayed to the caller. The lifespan is already running (the test
    session started it), so the caller's lifespan messages are answered here.
    """

    async def bridged(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": f"{message['type']}.complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        future = asyncio.run_coroutine_threadsafe(_run(app, dict(scope), body), loop)
        for message in await asyncio.wrap_future(future):
            await send(message)

    return bridged


async def _run(app: ASGIApp, scope: dict[str, Any], body: bytes) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    return sent


@dataclass
class Outcome:
    """What a run did: operations and cases it sent, answers it got, what went wrong."""

    operations: set[str] = field(default_factory=set)
    cases: int = 0
    failures: list[str] = field(default_factory=list)  # a 5xx, with a curl line to replay it
    errors: list[str] = field(default_factory=list)  # schemathesis could not test something
    seconds: float = 0.0
    answered: set[str] = field(default_factory=set)  # operations that answered 200 or 201

    def summary(self) -> str:
        return (f"schemathesis: {len(self.operations)} operations, {self.cases:,} cases, "
                f"{len(self.failures)} failures, {len(self.errors)} errors "
                f"(seed {SEED}, {self.seconds:.0f} s)")


def _run_schemathesis(app: ASGIApp, headers: dict[str, str], key: str,
                      known: dict[str, list[str]]) -> Outcome:
    from schemathesis.engine import events
    from schemathesis.engine import from_schema as engine_for

    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "suppress-health-check": ["all"],
        "dictionaries": {"hostile-text": {"values": HOSTILE_TEXT},
                         "hostile-numbers": {"values": HOSTILE_NUMBERS},
                         **{name: {"values": values} for name, values in known.items()}},
        "generation": {
            "max-examples": MAX_EXAMPLES, "database": "none", "mode": "all",
            "dictionaries": {"string": {"dictionary": "hostile-text", "probability": 0.1},
                             "integer": {"dictionary": "hostile-numbers", "probability": 0.1}},
        },
        # Real identifiers and codes half of the time, so cases reach past "not found" into
        # the handlers' own checks; random ones the other half.
        "parameters": {where: {"dictionary": name, "probability": 0.5}
                       for name in known for where in KNOWN_PLACES[name]},
        "phases": {"stateful": {"enabled": False},
                   "fuzzing": {"extra-data-sources": {"responses": False}}},
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
        "headers": headers,
        # Signing out would end the session every other case uses: it signs out a key instead.
        "operations": [{"include-path": "/api/auth/logout",
                        "headers": {"cookie": "", "authorization": f"Bearer {key}"}}],
    })
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=config,
                                            headers=headers)
    outcome = Outcome()
    started = time.monotonic()
    for event in engine_for(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            outcome.operations.add(recorder.label)
            outcome.cases += len(recorder.interactions)
            if any(interaction.response is not None
                   and interaction.response.status_code in (200, 201)
                   for interaction in recorder.interactions.values()):
                outcome.answered.add(recorder.label)
            for checks in recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        outcome.failures.append(
                            f"{recorder.label}: {check.failure_info.failure.title}\n"
                            f"{check.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            outcome.errors.append(f"{getattr(event, 'label', '')}: {event!r}"[:2000])
    outcome.seconds = time.monotonic() - started
    return outcome


# Where each kind of known value goes (OpenAPI parameter names, body paths).
KNOWN_PLACES = {
    "skus": ["path.sku", "query.sku", "body.sku", "body.lines[*].sku", "body.variants[*].sku"],
    "locations": ["path.code", "query.location", "body.location", "body.delivery.location"],
    "channels": ["query.channel", "body.channel"],
    "methods": ["body.delivery.method"],
    "countries": ["body.delivery.address.country"],
    "orders": ["path.number", "path.order_number"],
    "fulfillments": ["path.fulfillment_id"],
    "products": ["path.product_id"],
    "customers": ["path.customer_id"],
    "tokens": ["path.token"],
}


async def _make_a_small_shop(catalog: Any, web: httpx.AsyncClient, admin: httpx.AsyncClient,
                             ) -> dict[str, list[str]]:
    """Products, stock, a shipped and a pickup order, and every identifier they gave."""
    product = await catalog.add("TEE", price=1999, barcode="3700000000017",
                                stock={"WH-PARIS": 50, "ST-LYON-01": 5})
    await catalog.add("MUG", price=900, stock={"WH-LYON": 20})
    orders = [(await web.post("/api/orders", json=body)).json() for body in (
        order_body(("TEE", 2), ("MUG", 1)), order_body(("TEE", 1), delivery=pickup("ST-LYON-01")))]
    fulfillments = (await admin.get("/api/fulfillments")).json()["items"]
    detail = (await admin.get(f"/api/orders/{orders[0]['number']}")).json()
    return {
        "skus": ["TEE", "MUG"],
        "locations": ["WH-PARIS", "WH-LYON", "ST-LYON-01", "ST-PARIS-01"],
        "channels": ["web", "b2b"],
        "methods": ["ship", "pickup"],
        "countries": ["FR", "BE", "DE"],
        "orders": [order["number"] for order in orders],
        "fulfillments": [item["id"] for item in fulfillments],
        "products": [str(product)],
        "customers": [detail["customer"]["id"]],
        "tokens": [order["tracking_token"] for order in orders],
    }


async def test_no_request_schemathesis_can_make_gets_a_server_error(
    app: Any, world: World, anon: httpx.AsyncClient, catalog: Any, client_for: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    known = await _make_a_small_shop(catalog, await client_for(key="web"),
                                     await client_for("admin"))
    assert all(known.values()), known
    csrf = await sign_in(anon, world.users["admin"])
    headers = {"cookie": f"comptoir_session={anon.cookies['comptoir_session']}",
               "x-csrf-token": csrf}
    operations = {f"{method.upper()} {path}"
                  for path, item in app.openapi_schema.to_schema()["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}

    outcome = await asyncio.to_thread(_run_schemathesis,
                                      _on_loop(app, asyncio.get_running_loop()), headers,
                                      world.keys["manager-key"], known)

    with capsys.disabled():  # shown in every run, passing or not
        print(f"\n{outcome.summary()}")
    assert not outcome.failures, "\n\n".join([outcome.summary(), *outcome.failures])
    assert not outcome.errors, "\n\n".join([outcome.summary(), *outcome.errors])
    # It cannot pass by testing nothing: every operation, many cases each, signed in.
    assert outcome.operations == operations, operations ^ outcome.operations
    assert outcome.cases >= len(operations) * MAX_EXAMPLES, outcome.summary()
    assert len(outcome.answered) > len(operations) / 2, sorted(operations - outcome.answered)
    assert (await anon.get("/api/auth/me")).status_code == 200  # the session lasted the run
