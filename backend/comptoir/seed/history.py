"""The demo's month of history, replayed through Comptoir's own API (``history_plan.py`` plans it).

Every step is a request to the application, in process, made by the demo's staff (the
manager; the associate in their own store) with the clock set to the step's moment
(``db.base.clock_at``): orders are captured and routed, held, released, cancelled, picked,
packed, shipped and handed over by the same code as in a shop, so events, stock movements,
reservations and counters agree, and the invoices are issued as goods leave (the company's
legal details are seeded); the manager credits one unit of a delivered order the day after it
left, so the month has a credit note; nothing is written behind the services' back. Steps run in
time order across all orders, so the events' sequence follows the clock. An order whose
reference the channel already has is left alone: a second run adds nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select, tuple_

from comptoir.db.base import clock_at
from comptoir.events.dispatcher import OutboxDispatcher
from comptoir.seed.catalog import draw, plan_catalog, plan_stock
from comptoir.seed.demo import DemoRetailer, StaffSpec
from comptoir.seed.history_plan import PlannedOrder, Step, plan_history
from comptoir.settings import Settings

__all__ = ["seed_history"]

# A store promises a pickup of a SKU it holds at least this many of (the rest is for walk-ins).
PICKUP_MIN_UNITS = 3
CARRIERS = [("colissimo", "6A"), ("chronopost", "XW"), ("dpd", "25")]
HOLDS = [("address_check", "Adresse incomplète : numéro de rue à confirmer avec le client."),
         ("suspected_fraud", "Adresse de livraison différente de celle de facturation."),
         ("customer_request", "Le client demande d'attendre son retour de vacances.")]
CANCELS = ["Le client a changé d'avis.", "Commande passée en double par le client.",
           "Délai de livraison trop long pour le client."]
# The month's one credit note: a unit of a delivered order, credited the day after it left.
CREDIT_NOTE_REASON = "Article reçu abîmé (colis endommagé) : un exemplaire remboursé au client."
CREDIT_NOTE_DELAY = dt.timedelta(days=1)

Json = dict[str, Any]


@dataclass
class _Progress:
    """What the replay knows of an order it captured."""

    number: str
    locations: set[str]  # where its units are allocated
    fulfillments: dict[str, Json] = field(default_factory=dict)  # by location


class _Replay:
    def __init__(self, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
                 associate_location: str | None, sessionmaker: Any) -> None:
        self.sessionmaker = sessionmaker
        self.manager = manager
        self.associate = associate
        self.associate_location = associate_location
        self.orders: dict[str, PlannedOrder] = {}
        self.progress: dict[str, _Progress] = {}
        self.failed: set[str] = set()
        self.queues: dict[str, dict[str, Json]] = {}  # location -> order number -> its work

    def _at(self, location: str) -> httpx.AsyncClient:
        return self.associate if location == self.associate_location else self.manager

    async def _call(self, client: httpx.AsyncClient, method: str, path: str,
                    body: Json | None = None) -> Json:
        response = await client.request(method, path, json=body)
        if response.status_code >= 400:
            raise _Refused(f"{method} {path}: {response.status_code} {response.text[:300]}")
        answer: Json = response.json()
        return answer

    async def run(self, step: Step) -> None:
        if step.ref in self.failed:
            return
        try:
            if step.kind == "capture":
                await self._capture(self.orders[step.ref])
            else:
                await self._follow(step)
        except _Refused as refused:
            # The shop said no (stock gone, a state it cannot leave): the order stays as it is,
            # as it would in a shop, and the rest of the month goes on; said, not hidden.
            self.failed.add(step.ref)
            print(f"seed-demo: {step.ref} ({step.kind}) was refused: {refused}", file=sys.stderr)

    async def _capture(self, order: PlannedOrder) -> None:
        address = order.address
        delivery: Json = (
            {"method": "pickup", "location": order.pickup_at} if order.pickup_at else
            {"method": "ship", "address": {
                "name": address.name, "line1": address.line1, "postal_code": address.postal_code,
                "city": address.city, "country": "FR", "phone": order.customer.phone,
                "latitude": address.latitude, "longitude": address.longitude}})
        answer = await self._call(self.manager, "POST", "/api/orders", {
            "channel": order.channel, "external_ref": order.ref,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in order.lines],
            "delivery": delivery,
            "customer": {"email": order.customer.email, "name": order.customer.name,
                         "phone": order.customer.phone},
            # A card the sandbox accepts, authorized for the order's total once the server
            # runs its outbox; the goods that left by then are captured at once.
            "payment": {"provider": "sandbox", "token": "tok_ok", "amount": CARD_LIMIT},
        })
        self.progress[order.ref] = _Progress(number=answer["number"],
                                             locations=_locations(answer))

    async def _follow(self, step: Step) -> None:
        progress = self.progress[step.ref]
        number, choice = progress.number, draw(step.kind, step.ref)
        if step.kind == "hold":
            reason, note = HOLDS[choice % len(HOLDS)]
            await self._call(self.manager, "POST", f"/api/orders/{number}/hold",
                             {"reason": reason, "note": note})
        elif step.kind == "release":
            await self._call(self.manager, "POST", f"/api/orders/{number}/release")
        elif step.kind == "cancel":
            await self._call(self.manager, "POST", f"/api/orders/{number}/cancel",
                             {"reason": CANCELS[choice % len(CANCELS)]})
        elif step.kind == "credit_note":
            await self._credit_note(number)
        elif step.kind == "cancel_line":
            line = self.orders[step.ref].lines[0]
            answer = await self._call(self.manager, "POST", f"/api/orders/{number}/cancel", {
                "lines": [{"sku": line.sku, "quantity": line.quantity}],
                "reason": "Le client ne veut plus cet article."})
            progress.locations = _locations(answer)
        else:
            for location, work in (await self._fulfillments(progress)).items():
                await self._work(step, location, work, progress)

    async def _credit_note(self, number: str) -> None:
        """The manager credits one unit of the first goods line of the order's first invoice
        (issued when its goods left), with the reason the customer gave."""
        response = await self.manager.get("/api/invoices", params={"order": number})
        if response.status_code >= 400 or not response.json()["items"]:
            raise _Refused(f"no invoice of {number} to credit: {response.status_code}")
        first = min(response.json()["items"], key=lambda item: item["number"])
        invoice = await self._call(self.manager, "GET", f"/api/invoices/{first['number']}")
        line = next(line for line in invoice["statement"]["lines"] if not line.get("shipping"))
        await self._call(self.manager, "POST", f"/api/invoices/{first['number']}/credit-notes",
                         {"reason": CREDIT_NOTE_REASON,
                          "lines": [{"position": line["position"], "quantity": 1}]})

    async def _fulfillments(self, progress: _Progress) -> dict[str, Json]:
        """The order's fulfillments, by location (found in each location's queue once)."""
        if not progress.fulfillments:
            for location in sorted(progress.locations):
                found = await self._find(location, progress.number)
                if found is not None:
                    progress.fulfillments[location] = found
        return progress.fulfillments

    async def _find(self, location: str, number: str) -> Json | None:
        """The order's fulfillment at ``location``, from the location's queue as last read;
        read again (every page) only when the order is not in it yet."""
        if number not in self.queues.get(location, {}):
            queue: dict[str, Json] = {}
            cursor: str | None = None
            while True:
                params = {"location": location, "limit": "100",
                          **({"cursor": cursor} if cursor else {})}
                response = await self.manager.get("/api/fulfillments", params=params)
                if response.status_code >= 400:
                    raise _Refused(f"queue of {location}: {response.status_code}")
                page = response.json()
                queue.update((item["order_number"], item) for item in page["items"]
                             if item["status"] != "cancelled")
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            self.queues[location] = queue
        return self.queues[location].get(number)

    async def _work(self, step: Step, location: str, work: Json, progress: _Progress) -> None:
        client, path = self._at(location), f"/api/fulfillments/{work['id']}"
        if step.kind in ("ship", "ship_part"):
            carrier, prefix = CARRIERS[draw("carrier", step.ref) % len(CARRIERS)]
            body: Json = {"carrier": carrier, "tracking_number":
                          f"{prefix}{draw('parcel', step.ref, step.kind) % 10**11:011d}FR"}
            open_lines = [line for line in work["lines"] if line["quantity"] > 0]
            if step.kind == "ship_part":
                if len(open_lines) < 2:
                    return  # one line here: it all goes in the last parcel
                body["lines"] = [{"sku": open_lines[0]["sku"],
                                  "quantity": open_lines[0]["quantity"]}]
            elif not open_lines:
                return
            answer = await self._call(client, "POST", f"{path}/ship", body)
        elif step.kind == "handover":
            answer = await self._call(client, "POST", f"{path}/handover", {
                "code": await self._pickup_code(progress.number),
                "id_checked": bool(work.get("id_check_required"))})
        else:
            verb = {"pick": "pick", "pack": "pack", "ready": "ready-for-pickup"}[step.kind]
            answer = await self._call(client, "POST", f"{path}/{verb}")
        progress.fulfillments[location] = answer

    async def _pickup_code(self, number: str) -> str:
        """The code the customer shows at the counter (they have it from their e-mail)."""
        from comptoir.orders.models import Order

        async with self.sessionmaker() as session:
            code = await session.scalar(select(Order.pickup_code).where(Order.number == number))
        return code or ""


class _Refused(Exception):
    pass


CARD_LIMIT = 10_000_000  # what the demo's cards may authorize: more than any demo order


def _locations(order: Json) -> set[str]:
    return {a["location"] for line in order["lines"] for a in line["allocations"]
            if a["quantity"] > 0}


def _staff(demo: DemoRetailer, role: str) -> StaffSpec:
    return next(member for member in demo.staff if member.role == role)


def _plan(demo: DemoRetailer, now: dt.datetime) -> list[PlannedOrder]:
    catalog = plan_catalog(demo)
    stock = plan_stock(catalog, demo.locations)
    stores = {loc.code for loc in demo.locations if loc.kind == "store" and loc.serves_pickups}
    pickup: dict[str, list[str]] = defaultdict(list)
    for sku, location, units in stock:
        if location in stores and units >= PICKUP_MIN_UNITS:
            pickup[location].append(sku)
    ship = sorted({sku for sku, location, _units in stock if location not in stores})
    return plan_history(now, ship, pickup)


def _with_credit_note(orders: Sequence[PlannedOrder], now: dt.datetime) -> list[Step]:
    """Every order's steps in time order, and one credit note: for the first order whose
    goods all left (shipped or handed over) long enough ago, the day after they did."""
    steps = [step for order in orders for step in order.steps]
    delivered = sorted((order.steps[-1].at, order.ref) for order in orders
                       if order.fate == "delivered"
                       and order.steps[-1].kind in ("ship", "handover")
                       and order.steps[-1].at + CREDIT_NOTE_DELAY < now)
    if delivered:
        at, ref = delivered[0]
        steps.append(Step(at=at + CREDIT_NOTE_DELAY, ref=ref, kind="credit_note"))
    return sorted(steps, key=lambda s: (s.at, s.ref))


async def _already_there(settings: Settings, orders: Sequence[PlannedOrder]) -> set[str]:
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.orders.models import Order

    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            pairs = [(order.channel, order.ref) for order in orders]
            rows = await session.execute(select(Order.external_ref).where(
                tuple_(Order.channel, Order.external_ref).in_(pairs)))
            return {ref for (ref,) in rows if ref}
    finally:
        await engine.dispose()


@asynccontextmanager
async def _running_app(settings: Settings) -> AsyncIterator[Any]:
    """Comptoir in this process, its lifespan entered and left in one task (as anyio wants)."""
    from comptoir.app import create_app

    app = create_app(settings, run_dispatcher=False)
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    await started.wait()
    try:
        yield app
    finally:
        stop.set()
        await task


async def _signed_in(app: Any, member: StaffSpec) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://seed")
    response = await client.post("/api/auth/login", json={"username": member.username,
                                                          "password": member.password})
    response.raise_for_status()
    client.headers["x-csrf-token"] = response.json()["csrf_token"]
    return client


async def seed_history(settings: Settings, demo: DemoRetailer, created: dict[str, int],
                       now: dt.datetime | None = None) -> None:
    """Replay the orders of the last month that the database does not have yet."""
    now = now or dt.datetime.now(dt.UTC)
    planned = _plan(demo, now)
    known = await _already_there(settings, planned)
    new = [order for order in planned if order.ref not in known]
    created["orders"] = 0
    if not new:
        return
    async with _running_app(settings) as app:
        manager = await _signed_in(app, _staff(demo, "manager"))
        associate_spec = _staff(demo, "associate")
        associate = await _signed_in(app, associate_spec)
        try:
            replay = _Replay(manager, associate, associate_spec.location, app.state.sessionmaker)
            replay.orders = {order.ref: order for order in new}
            # Payments settle as the month goes (authorized at capture, captured as the goods
            # leave), not all at once when the server first runs its outbox.
            payments = OutboxDispatcher(app.state.sessionmaker,
                                        app.state["payment_calls"].handlers(), only_handled=True)
            for step in _with_credit_note(new, now):
                with clock_at(step.at):
                    await replay.run(step)
                    while await payments.run_once():
                        pass
            created["orders"] = len(replay.progress)
        finally:
            await manager.aclose()
            await associate.aclose()
