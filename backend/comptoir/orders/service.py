"""Order capture and reading: all-or-nothing reservation, idempotency, lists and the timeline.

Changes to an existing order (cancel, hold, release, edit, notes) are in ``actions.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import msgspec
from sqlalchemy import Table, exists, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.config import service as config
from comptoir.config.schemas import ChannelOut, LocationOut
from comptoir.countries import country_code
from comptoir.customers import service as customers
from comptoir.db.base import new_id, utcnow
from comptoir.db.engine import is_postgres, on_commit
from comptoir.errors import Conflict, Forbidden, InvalidInput, NotFound
from comptoir.events.models import Event
from comptoir.events.service import (
    announce_committed,
    outbox_wakeup,
    record_event,
    recorded_by_sql,
)
from comptoir.idempotency import CLAIM_KEY, key_scope, stored_response
from comptoir.inventory import service as inventory
from comptoir.inventory.service import SellableVariant
from comptoir.orders import capture_pg, lifecycle, numbering, tax
from comptoir.orders.handoff import HAND_OFF, hand_off, hand_off_payloads
from comptoir.orders.lifecycle import Status
from comptoir.orders.models import (
    Order,
    OrderAllocation,
    OrderLine,
    insert_unless_exists,
)
from comptoir.orders.schemas import (
    AddressIn,
    AddressOut,
    AllocationOut,
    CustomerOut,
    DeliveryIn,
    DeliveryOut,
    EventOut,
    HoldOut,
    LineOut,
    OrderDetailOut,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderSummary,
    TotalsOut,
)
from comptoir.orders.timeline import order_timeline
from comptoir.routing import scoring
from comptoir.routing import service as routing

__all__ = [
    "AlreadyCaptured",
    "Captured",
    "Delivery",
    "OutOfStock",
    "answer_for_retry",
    "capture",
    "customer_orders",
    "customer_spending",
    "find_order",
    "list_orders",
    "order_detail",
    "order_events",
    "order_out",
    "routing_delivery",
]

MAX_LINES = 100
MAX_QUANTITY = 100_000
MAX_UNIT_PRICE = 100_000_000  # a million euros a unit: beyond is a typo, not an order
MAX_PAGE = 200


class OutOfStock(Conflict):
    code = "out_of_stock"
    title = "Out of stock"


def out_of_stock(shortages: Iterable[scoring.Shortage]) -> OutOfStock:
    short = list(shortages)
    names = ", ".join(f"{s.sku} ({s.requested} asked, {s.available} available)" for s in short)
    return OutOfStock(
        f"Not enough stock for {names}; nothing was reserved.",
        lines=[{"sku": s.sku, "requested": s.requested, "available": s.available}
               for s in short],
    )


def not_routed(decision: scoring.Decision) -> Conflict:
    """The refusal of an order routing could not place: what is short, else why not."""
    if decision.shortages:
        return out_of_stock(decision.shortages)
    return Conflict(f"This order cannot be served: {decision.reason}", code="not_routable",
                    deciding_factor=decision.deciding_factor)


def _reservations(allocations: Iterable[Any]) -> dict[tuple[str, str], int]:
    """Units to reserve per (sku, location)."""
    wanted: dict[tuple[str, str], int] = {}
    for a in allocations:
        wanted[(a.sku, a.location)] = wanted.get((a.sku, a.location), 0) + a.quantity
    return wanted


async def _short_after_all(
    session: AsyncSession, demand: Sequence[tuple[str, int]], delivery: Delivery,
    channel: str,
) -> Conflict:
    """The refusal when a reservation failed after routing (another order took the units
    meanwhile): what routing finds now, or, if it finds enough (units came back since),
    the lines as short of what they asked."""
    now = await inventory.availability(session, [sku for sku, _q in demand])
    again = await routing.route(session, demand, delivery.for_routing(), channel=channel,
                                stock=now, listed=0)
    if not again.accepted:
        return not_routed(again)
    return out_of_stock([scoring.Shortage(sku, quantity, sum(now.get(sku, {}).values()))
                         for sku, quantity in demand])


def _not_found(number: str) -> NotFound:
    return NotFound(f"No order {number}.", code="order_not_found")


# --- validating what a caller sends ---------------------------------------------------------


async def channel_for(requested: str | None, principal: Principal) -> ChannelOut:
    """The channel an order comes from: a channel key's own, or the one staff name."""
    if principal.role == "channel":
        if requested is not None and requested != principal.channel:
            raise Forbidden(
                f"This API key captures orders for the channel '{principal.channel}', "
                f"not '{requested}'.",
                code="channel_mismatch",
            )
        requested = principal.channel
    if not requested:
        raise InvalidInput("Say which sales channel the order comes from ('channel').",
                           code="channel_required")
    channel = await config.get_channel(requested)
    if channel is None:
        raise InvalidInput(f"Unknown sales channel '{requested}'.", code="unknown_channel")
    if not channel.active:
        raise InvalidInput(f"The sales channel '{requested}' is closed.", code="channel_inactive")
    return channel


@dataclass(frozen=True, slots=True)
class Delivery:
    """A checked delivery: where the order goes and which country's VAT applies."""

    method: str
    address: AddressIn | None
    location: LocationOut | None
    country: str

    @property
    def location_code(self) -> str | None:
        return self.location.code if self.location else None

    def ship_to(self) -> dict[str, Any] | None:
        return msgspec.to_builtins(self.address) if self.address else None

    def for_routing(self) -> scoring.Delivery:
        if self.method == "pickup":
            return scoring.Delivery("pickup", store=self.location_code)
        assert self.address is not None
        return scoring.Delivery("ship", latitude=self.address.latitude,
                                longitude=self.address.longitude,
                                postal_code=self.address.postal_code.strip() or None,
                                country=self.country)


def routing_delivery(method: str, pickup_location: str | None,
                     ship_to: Mapping[str, Any] | None) -> scoring.Delivery:
    """Where a stored order goes, as routing sees it (``Delivery.for_routing`` of a capture)."""
    if method == "pickup":
        return scoring.Delivery("pickup", store=pickup_location)
    address = ship_to or {}
    return scoring.Delivery("ship", latitude=address.get("latitude"),
                            longitude=address.get("longitude"),
                            postal_code=str(address.get("postal_code") or "").strip() or None,
                            country=str(address.get("country") or "").upper() or None)


async def check_delivery(delivery: DeliveryIn) -> Delivery:
    if delivery.method == "pickup":
        if not delivery.location:
            raise InvalidInput("A pickup order names its store ('delivery.location').",
                               code="location_required")
        store = await config.get_location(delivery.location)
        if store is None:
            raise InvalidInput(f"Unknown location '{delivery.location}'.",
                               code="unknown_location")
        if not (store.active and store.serves_pickups):
            raise InvalidInput(f"{store.name} ({store.code}) does not serve pickups.",
                               code="pickup_not_available")
        return Delivery("pickup", None, store, store.country.upper())
    if delivery.method == "ship":
        address = delivery.address
        if address is None:
            raise InvalidInput("A shipped order needs a delivery address ('delivery.address').",
                               code="address_required")
        country = country_code(address.country)
        for field in ("name", "line1", "postal_code", "city"):
            if not getattr(address, field).strip():
                raise InvalidInput(f"The delivery address needs a {field.replace('_', ' ')}.",
                                   code="incomplete_address", field=field)
        if (address.latitude is None) != (address.longitude is None):
            raise InvalidInput("Send the delivery address's latitude and longitude together, "
                               "or neither.", code="invalid_coordinates")
        return Delivery("ship", msgspec.structs.replace(address, country=country), None, country)
    raise InvalidInput(f"Unknown delivery method '{delivery.method}': ship or pickup.",
                       code="unknown_delivery_method")


def check_quantity(sku: str, quantity: int, *, allow_zero: bool = False) -> None:
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise InvalidInput(f"{sku}: a quantity of {quantity} is not an order; at least 1.",
                           code="invalid_quantity", sku=sku)
    if quantity > MAX_QUANTITY:
        raise InvalidInput(f"{sku}: {quantity} units is more than one line may hold "
                           f"({MAX_QUANTITY}).", code="quantity_too_large", sku=sku)


def check_unit_price(sku: str, unit_price: int | None) -> None:
    if unit_price is None:
        return
    if unit_price < 0:
        raise InvalidInput(f"{sku}: a price cannot be negative.", code="invalid_price", sku=sku)
    if unit_price > MAX_UNIT_PRICE:
        raise InvalidInput(f"{sku}: a unit price of {unit_price} is beyond what Comptoir accepts.",
                           code="price_too_large", sku=sku)


def check_variants(skus: Iterable[str], variants: Mapping[str, SellableVariant]) -> None:
    unknown = [sku for sku in skus if sku not in variants]
    if unknown:
        raise InvalidInput(f"Unknown SKU {', '.join(repr(s) for s in unknown)}.",
                           code="unknown_sku", skus=unknown)
    inactive = [sku for sku in skus if not variants[sku].active]
    if inactive:
        raise InvalidInput(f"No longer sold: {', '.join(inactive)}.", code="sku_inactive",
                           skus=inactive)


def unit_price_for(variant: SellableVariant, given: int | None, channel: ChannelOut) -> int:
    """The caller's price, else the catalog's (which must be in the channel's currency)."""
    if given is not None:
        return given
    if variant.currency != channel.currency:
        raise InvalidInput(
            f"{variant.sku} is priced in {variant.currency} in the catalog and the channel "
            f"sells in {channel.currency}: send 'unit_price'.",
            code="currency_mismatch", sku=variant.sku,
        )
    return variant.price


PICKUP_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud at a counter


def new_pickup_code() -> str:
    """8 characters from 31: about 10^12 codes, unguessable at a counter's pace."""
    return "".join(secrets.choice(PICKUP_CODE_ALPHABET) for _ in range(8))


def goods_amount(lines: Iterable[Any]) -> int:
    """What the goods cost in the channel's price basis (what ``free_from`` compares with)."""
    return sum(line.unit_price * line.quantity for line in lines)


def price_lines(lines: Sequence[Any], rate_bp: int, include_tax: bool) -> None:
    """Set ``net``, ``tax`` and ``total`` of each line (objects or namespaces) in place."""
    for line in lines:
        amounts = tax.line_amounts(line.unit_price, line.quantity, rate_bp,
                                   prices_include_tax=include_tax)
        line.net, line.tax, line.total = amounts.net, amounts.tax, amounts.total


def order_totals(
    lines: Sequence[Any], shipping_fee: int, rate_bp: int, include_tax: bool
) -> tax.Totals:
    shipping = tax.line_amounts(shipping_fee, 1, rate_bp, prices_include_tax=include_tax)
    return tax.order_totals(
        [tax.Amounts(line.net, line.tax, line.total) for line in lines], shipping
    )


def search_text(*parts: str | None) -> str:
    return " ".join(p.lower() for p in parts if p)


# --- answers ----------------------------------------------------------------------------------


def order_out(order: Any, lines: Sequence[Any], allocations: Sequence[Any]) -> OrderOut:
    """The order as the API shows it; ``order``, lines and allocations are rows or namespaces."""
    by_line: dict[uuid.UUID, list[AllocationOut]] = {}
    for a in sorted(allocations, key=lambda a: a.location):
        if a.quantity > 0:
            by_line.setdefault(a.line_id, []).append(
                AllocationOut(location=a.location, quantity=a.quantity))
    address = AddressOut(**order.ship_to) if order.ship_to else None
    hold = HoldOut(reason=order.hold_reason, note=order.hold_note) if order.hold_reason else None
    return OrderOut(
        id=order.id,
        number=order.number,
        status=order.status,
        version=order.version,
        channel=order.channel,
        external_ref=order.external_ref,
        created_at=order.created_at,
        updated_at=order.updated_at,
        customer=CustomerOut(id=order.customer_id, email=order.customer_email,
                             name=order.customer_name, phone=order.customer_phone),
        delivery=DeliveryOut(method=order.delivery_method, address=address,
                             location=order.pickup_location),
        lines=[
            LineOut(id=line.id, sku=line.sku, name=line.name, quantity=line.quantity,
                    cancelled_quantity=line.cancelled_quantity, unit_price=line.unit_price,
                    net=line.net, tax=line.tax, total=line.total,
                    allocations=by_line.get(line.id, []))
            for line in sorted(lines, key=lambda line: line.position)
        ],
        totals=TotalsOut(subtotal=order.subtotal, shipping=order.shipping, tax=order.tax,
                         total=order.total, currency=order.currency,
                         prices_include_tax=order.prices_include_tax,
                         vat_rate_bp=order.vat_rate_bp),
        note=order.note,
        hold=hold,
        allowed_actions=lifecycle.allowed_actions(order.status),
        tracking_token=order.tracking_token,
    )


# --- capture ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Captured:
    """A new order (201), or the stored answer to a repeated Idempotency-Key."""

    order: OrderOut
    status_code: int = 201
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class AlreadyCaptured:
    """The channel already sent this external reference: the caller answers with that order.

    The capture transaction must be rolled back first (it may hold a customer update and a
    number), then ``find_by_external_ref`` read in a fresh one.
    """

    channel: str
    external_ref: str


def request_hash(data: OrderIn, channel: str | None) -> str:
    """What makes two requests "the same body" for an Idempotency-Key (field order aside)."""
    return hashlib.sha256(
        (channel or "").encode() + b"\0" + msgspec.json.encode(data)).hexdigest()



ORDERS = cast(Table, Order.__table__)
LINES = cast(Table, OrderLine.__table__)
ALLOCATIONS = cast(Table, OrderAllocation.__table__)
_INSERT_ORDER = insert_unless_exists(ORDERS, ("channel", "external_ref"), "id")
async def stored_answer(
    session: AsyncSession, scope: str, key: str, digest: str
) -> Captured | None:
    """The answer the first request with this key got; a refusal if it had another body."""
    stored = await stored_response(session, scope, key, digest)
    if stored is None:
        return None
    status_code, response = stored
    return Captured(order=msgspec.json.decode(response, type=OrderOut),
                    status_code=status_code, replayed=True)


async def _replay(session: AsyncSession, scope: str, key: str, digest: str) -> Captured:
    replay = await stored_answer(session, scope, key, digest)
    if replay is None:  # the key was just purged: a retry will capture afresh
        raise Conflict("This Idempotency-Key changed meanwhile; retry.",
                       code="idempotency_key_in_use")
    return replay


async def answer_for_retry(
    session: AsyncSession, data: OrderIn, *, principal: Principal, idempotency_key: str | None
) -> Captured | None:
    """After a capture that did not go through: the first answer to this key, if there is one.

    A retry whose order was captured meanwhile must get that order back, not the refusal
    (e.g. out of stock: the first request took the last units). Call it in a fresh
    transaction, after the failed one was rolled back.
    """
    if idempotency_key is None:
        return None
    channel = principal.channel if principal.role == "channel" else data.channel
    return await stored_answer(session, key_scope(principal), idempotency_key,
                               request_hash(data, channel))


def _check_request(data: OrderIn, channel: ChannelOut, idempotency_key: str | None) -> None:
    if data.currency is not None and data.currency.upper() != channel.currency:
        raise InvalidInput(f"The channel '{channel.code}' sells in {channel.currency}, not "
                           f"{data.currency}.", code="currency_mismatch")
    if not data.lines:
        raise InvalidInput("An order needs at least one line.", code="no_lines")
    if len(data.lines) > MAX_LINES:
        raise InvalidInput(f"An order has at most {MAX_LINES} lines.", code="too_many_lines")
    seen: set[str] = set()
    for line in data.lines:
        check_quantity(line.sku, line.quantity)
        check_unit_price(line.sku, line.unit_price)
        if line.sku in seen:
            raise InvalidInput(f"{line.sku} is on two lines: send it once with the total "
                               "quantity.", code="duplicate_sku", sku=line.sku)
        seen.add(line.sku)
    if data.customer is not None:
        customers.check_email(data.customer.email)
    if data.external_ref is not None and not data.external_ref.strip():
        raise InvalidInput("An empty external reference: leave it out instead.",
                           code="invalid_external_ref")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise InvalidInput("An Idempotency-Key has 1 to 200 characters.",
                           code="invalid_idempotency_key")


async def capture(
    session: AsyncSession,
    data: OrderIn,
    *,
    principal: Principal,
    idempotency_key: str | None = None,
) -> Captured | AlreadyCaptured:
    """Capture an order and reserve every line, all or nothing.

    The order is routed by routing/ the moment it arrives, on the availability read with
    the variants. On PostgreSQL the rest is one statement (orders/capture_pg.py), which the
    captures arriving at the same moment share: two statements in all, whatever the
    Idempotency-Key or the customer, and one when this process read the SKUs in the last
    seconds (inventory.RecentReads: routing may lean on that read, the write never does).
    On SQLite, one writer at a time, the same writes go one table at a time (about 11
    statements). Events are numbered by the database (events/models.py).
    tests/orders/test_statement_budget.py holds a one-line capture to 12. Level rows are
    locked last, in (sku, location) order: the hottest rows are held for the shortest time,
    and two captures never wait for each other in opposite orders.

    Idempotency-Key: on PostgreSQL the key row is written by the capture statement, with
    its answer; a concurrent twin waits on its unique index until the first commits, then
    its own statement is refused and it replays the first answer. On SQLite, where writers
    take turns anyway, the key is written once with the answer, at the end; a twin finds it
    there (or, when it failed, through ``answer_for_retry``).
    """
    channel = await channel_for(data.channel, principal)
    _check_request(data, channel, idempotency_key)
    delivery = await check_delivery(data.delivery)
    now = utcnow()
    postgres = is_postgres(session)
    if postgres and isinstance(session.bind, AsyncEngine):
        await numbering.prepare_year(session.bind, now.year)
    scope, digest = key_scope(principal), request_hash(data, channel.code)
    if not postgres:
        return await _capture_sqlite(session, data, channel, delivery, principal, now,
                                     scope, digest, idempotency_key)
    # PostgreSQL: read, route, then one statement; a retry when the statement saw a world
    # that moved (units taken meanwhile, a customer created meanwhile). Captures that
    # arrive together share their statements (capture_pg.together), on connections of
    # their own, unless the caller holds a transaction: then the order is written in it.
    engine = session.bind if isinstance(session.bind, AsyncEngine) else None
    together = engine is not None and not session.in_transaction()
    raced_for_capacity = False
    for attempt in range(1, CAPTURE_ATTEMPTS + 1):
        # Each statement is its own transaction: the read only informs routing (the
        # reservation checks the units again), and the write is one atomic statement.
        # No BEGIN and no COMMIT: two round trips fewer.
        if not together:
            await _autocommit(session)
        # The first attempt may route on this process's recent read of the SKUs; a retry,
        # which follows a write refused on what it read, reads afresh.
        # The last attempt after losing the race for locations' last slots of the day
        # routes without the locations that have a daily capacity, or waits for capacity.
        draft = await _draft(session, data, channel, delivery, principal, now,
                             together=engine if together else None, recent=attempt == 1,
                             limits_taken=raced_for_capacity and attempt == CAPTURE_ATTEMPTS)
        if not draft.decision.accepted and data.external_ref is None:
            raise not_routed(draft.decision)
        outbox = [_outbox_row(HAND_OFF, payload, now) for payload in await hand_off_payloads(
            order_id=draft.order.id, order_number="", locations=draft.routed_to,
            actor=principal.actor)]
        item = _pg_item(draft, data, scope, digest, idempotency_key, now, outbox)
        written: capture_pg.Written | capture_pg.Refused
        if together:
            assert isinstance(engine, AsyncEngine)
            if session.in_transaction():
                # Routing read today's counts in the session: give its connection back
                # before waiting for the shared statement (one connection at a time).
                await session.rollback()
            written = await capture_pg.together(engine, item)
        else:
            written = await capture_pg.alone(await _autocommit(session), item)
        committed = together and isinstance(written, capture_pg.Written)
        if isinstance(written, capture_pg.Refused):
            await session.rollback()
            reason = written.reason
            if reason == "repeated_external_ref":
                assert data.external_ref is not None
                return AlreadyCaptured(channel.code, data.external_ref)
            if reason == "not_routed":
                raise not_routed(draft.decision)
            if reason == "idempotency_key_taken":
                assert idempotency_key is not None
                return await _replay(session, scope, idempotency_key, digest)
            if reason == "short" and attempt == CAPTURE_ATTEMPTS:
                raise await _short_after_all(session, draft.demand, delivery, channel.code)
            raced_for_capacity = raced_for_capacity or reason == "at_capacity"
            # Short, a location filled meanwhile, or a customer created meanwhile: once
            # more, afresh (routing reads the locations' counts again).
            continue
        order = draft.order
        order.number = written.number
        if data.customer is not None:
            order.customer_id = written.customer_id
            order.customer_name, order.customer_phone = (written.customer_name,
                                                         written.customer_phone)
        if committed:  # announced now: no session commit is coming for it
            assert isinstance(engine, AsyncEngine)
            announce_committed([Event(
                id=event.id, seq=None, topic="order", type=event.type, subject=order.number,
                data=event.data, actor=principal.actor, at=now,
            ) for event in draft.events], database=engine.url)
            if outbox:
                outbox_wakeup.set()
        else:
            for event in draft.events:
                recorded_by_sql(session, id=event.id, topic="order", type=event.type,
                                subject=order.number, data=event.data,
                                actor=principal.actor, at=now)
            if outbox:
                on_commit(session, outbox_wakeup.set)
        return Captured(order=order_out(order, draft.lines, draft.allocations))
    raise Conflict("Stock or customers changed under this order several times in a row; "
                   "send it again.", code="capture_contended")


CAPTURE_ATTEMPTS = 3


async def _autocommit(session: AsyncSession) -> AsyncConnection:
    """The session's connection, in autocommit unless the caller's transaction holds it."""
    if not session.in_transaction():
        return await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return await session.connection()


@dataclass(frozen=True, slots=True)
class _DraftEvent:
    id: uuid.UUID
    type: str
    data: dict[str, Any]


@dataclass(slots=True)
class _Draft:
    """An order made ready to write: priced, routed, every row built."""

    order: SimpleNamespace
    lines: list[SimpleNamespace]
    allocations: list[SimpleNamespace]
    demand: list[tuple[str, int]]
    decision: scoring.Decision
    events: list[_DraftEvent]  # order.captured, then order.awaiting_capacity if it waits
    decision_row: dict[str, Any]
    claims: list[routing.DayClaim]  # the daily capacity it takes (none while it waits)

    @property
    def routed_to(self) -> list[str]:
        """The locations that get the order's work now (none while it waits)."""
        return self.decision.locations if self.decision.routed else []


async def _draft(
    session: AsyncSession, data: OrderIn, channel: ChannelOut, delivery: Delivery,
    principal: Principal, now: dt.datetime, together: AsyncEngine | None = None,
    recent: bool = False, limits_taken: bool = False,
) -> _Draft:
    """Read the variants and their stock, price the lines, route; no write. ``together``:
    read with the other captures of the moment, on that engine, not in the session;
    ``recent``: this process's recent read of the SKUs will do (inventory.RecentReads), but
    an order it would refuse or could not route is read again afresh. ``limits_taken``:
    route as if every location with a daily capacity were full (``routing.route``)."""
    skus = [line.sku for line in data.lines]
    if together is None:
        variants, stock = await inventory.variants_with_availability(session, skus)
        recent = False
    else:
        (variants, stock), recent = await inventory.variants_with_availability_together(
            together, skus, recent=recent)
    order_id = new_id()
    try:
        check_variants(skus, variants)
        lines = [
            SimpleNamespace(
                id=new_id(), order_id=order_id, position=position, sku=line.sku,
                name=variants[line.sku].name, quantity=line.quantity, cancelled_quantity=0,
                unit_price=unit_price_for(variants[line.sku], line.unit_price, channel),
                net=0, tax=0, total=0,
            )
            for position, line in enumerate(data.lines, start=1)
        ]
    except InvalidInput:
        if not recent:
            raise
        return await _draft(session, data, channel, delivery, principal, now, together,
                            limits_taken=limits_taken)
    rate_bp = await config.vat_rate_bp(delivery.country)
    price_lines(lines, rate_bp, channel.prices_include_tax)
    fee = tax.shipping_fee(channel.shipping_rates, delivery.method, goods_amount(lines))
    totals = order_totals(lines, fee, rate_bp, channel.prices_include_tax)
    demand = [(line.sku, line.quantity) for line in lines]
    # Routed the moment it arrives, under the configured policy (routing/).
    decision = await routing.route(session, demand, delivery.for_routing(),
                                   channel=channel.code, stock=stock, now=now,
                                   limits_taken=limits_taken, together=together)
    if recent and not decision.accepted:
        return await _draft(session, data, channel, delivery, principal, now, together,
                            limits_taken=limits_taken)
    status = Status.AWAITING_CAPACITY if decision.awaiting_capacity else Status.CONFIRMED
    given = data.customer
    email = customers.check_email(given.email) if given is not None else None
    order = SimpleNamespace(
        id=order_id, number="", channel=channel.code, external_ref=data.external_ref,
        status=status.value, held_from=None, hold_reason=None, hold_note=None,
        version=1, currency=channel.currency, prices_include_tax=channel.prices_include_tax,
        vat_rate_bp=rate_bp, customer_id=None,
        customer_email=email.lower() if email else None,
        customer_name=given.name if given else None,
        customer_phone=given.phone if given else None,
        delivery_method=delivery.method, pickup_location=delivery.location_code,
        pickup_code=new_pickup_code() if delivery.method == "pickup" else None,
        ship_to=delivery.ship_to(), note=data.note,
        subtotal=totals.subtotal, shipping=totals.shipping, shipping_tax=totals.shipping_tax,
        tax=totals.tax, total=totals.total, tracking_token=secrets.token_urlsafe(16),
        search="", created_by=principal.actor, created_at=now, updated_at=now,
    )
    line_of = {line.sku: line for line in lines}
    allocations = [
        SimpleNamespace(id=new_id(), order_id=order_id, line_id=line_of[a.sku].id, sku=a.sku,
                        location=a.location, quantity=a.quantity, created_at=now)
        for a in decision.allocations
    ] if decision.accepted else []
    event_data = {
        "status": status.value, "channel": channel.code, "external_ref": data.external_ref,
        "delivery": delivery.method, "pickup_location": delivery.location_code,
        "lines": [{"sku": line.sku, "quantity": line.quantity,
                   "unit_price": line.unit_price} for line in lines],
        "allocations": [{"sku": a.sku, "location": a.location, "quantity": a.quantity}
                        for a in allocations],
        "total": totals.total, "currency": channel.currency,
    }
    events = [_DraftEvent(new_id(), "order.captured", event_data)]
    if decision.awaiting_capacity:
        # "held_at", not "locations": no location has work for it yet (realtime/topics.py).
        events.append(_DraftEvent(new_id(), "order.awaiting_capacity", {
            "reason": decision.reason, "held_at": decision.locations}))
    return _Draft(order, lines, allocations, demand, decision, events,
                  routing.decision_rows(decision, now=now),
                  await routing.capacity_claims(decision, now=now))


def _outbox_row(kind: str, payload: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """An outbox message as a row for capture_pg (which sets its order number)."""
    return {"id": new_id(), "kind": kind, "payload": payload, "event_seq": None,
            "status": "pending", "attempts": 0, "available_at": now, "claimed_by": None,
            "claimed_until": None, "last_error": None, "created_at": now,
            "delivered_at": None}


def _pg_item(
    draft: _Draft, data: OrderIn, scope: str, digest: str, idempotency_key: str | None,
    now: dt.datetime, outbox: list[dict[str, Any]],
) -> capture_pg.Item:
    order = draft.order
    values = vars(order).copy()
    for computed in ("number", "search", "customer_id", "customer_name", "customer_phone"):
        del values[computed]
    given = data.customer
    customer = None if given is None else {
        "id": new_id(), "email": given.email.strip(), "email_lower": order.customer_email,
        "name": order.customer_name, "phone": order.customer_phone}
    key = None if idempotency_key is None else {
        "id": new_id(), "scope": scope, "key": idempotency_key, "request_hash": digest}
    exclusive: list[Hashable] = []
    if data.external_ref is not None:
        exclusive.append(("order", order.channel, data.external_ref))
    if customer is not None:
        exclusive.append(("customer", order.customer_email))
    if key is not None:
        exclusive.append(("key", scope, idempotency_key))
    return capture_pg.Item(
        order_id=order.id, year=now.year, now=now,
        document=capture_pg.document(
            order=values, customer=customer, routed=draft.decision.accepted,
            lines=[vars(line) for line in draft.lines],
            allocations=[vars(a) for a in draft.allocations],
            decision=draft.decision_row,
            capacity=[{"location": c.location, "local_day": c.local_day,
                       "capacity": c.capacity} for c in draft.claims],
            events=[{"id": event.id, "seq": None, "topic": "order", "type": event.type,
                     "subject": "", "data": event.data, "actor": order.created_by, "at": now}
                    for event in draft.events],
            outbox=outbox, key=key,
            response=(msgspec.json.encode(order_out(order, draft.lines, draft.allocations))
                      if key is not None else None)),
        reservations=_reservations(draft.allocations),
        exclusive=tuple(exclusive),
    )


async def _capture_sqlite(
    session: AsyncSession, data: OrderIn, channel: ChannelOut, delivery: Delivery,
    principal: Principal, now: dt.datetime, scope: str, digest: str,
    idempotency_key: str | None,
) -> Captured | AlreadyCaptured:
    """SQLite, one writer at a time: the same writes, one table after the other."""
    draft = await _draft(session, data, channel, delivery, principal, now)
    # The order's share of daily capacity first, counted and checked in one write: a
    # location that filled since routing read its count sends the order elsewhere (or to
    # wait), on fresh counts. (With SQLite's one writer it cannot have filled since.)
    for attempt in range(1, CAPTURE_ATTEMPTS + 1):
        if not draft.decision.accepted or not await routing.count_orders(session, draft.claims):
            break
        draft = await _draft(session, data, channel, delivery, principal, now,
                             limits_taken=attempt == CAPTURE_ATTEMPTS - 1)
    else:
        raise Conflict("Every location that could serve this order filled up while it was "
                       "routed; send it again.", code="capture_contended")
    order, lines, allocations, decision = (draft.order, draft.lines, draft.allocations,
                                           draft.decision)
    # A repeated external reference must get its order back even when the stock is gone:
    # refuse only once the order insert has shown it is new.
    if not decision.accepted and data.external_ref is None:
        raise not_routed(decision)
    customer = None
    if data.customer is not None:
        customer = await customers.match_or_create(
            session, email=data.customer.email, name=data.customer.name,
            phone=data.customer.phone)
        order.customer_id, order.customer_name = customer.id, customer.name
        order.customer_phone = customer.phone
    order.number = await numbering.next_number(session, now.year)
    order.search = (f"{order.number.lower()} "
                    + search_text(data.external_ref, customer.email if customer else None,
                                  customer.name if customer else None))
    if (await session.execute(_INSERT_ORDER, vars(order))).first() is None:
        assert data.external_ref is not None
        return AlreadyCaptured(channel.code, data.external_ref)
    if not decision.accepted:
        raise not_routed(decision)
    await session.execute(LINES.insert(), [vars(line) for line in lines])
    await session.execute(ALLOCATIONS.insert(), [vars(a) for a in allocations])
    await routing.record_decision(session, order.number, decision, now=now, counted=True)
    # Last, the levels: the hottest rows are locked for the shortest time.
    wanted = _reservations(allocations)
    if len(await inventory.reserve_all(session, wanted)) < len(wanted):
        raise await _short_after_all(session, draft.demand, delivery, channel.code)
    answer = order_out(order, lines, allocations)
    if idempotency_key is not None:
        response = msgspec.json.encode(answer).decode()
        if await session.scalar(CLAIM_KEY, {
            "id": new_id(), "scope": scope, "key": idempotency_key, "request_hash": digest,
            "status_code": 201, "response": response, "order_id": order.id,
            "created_at": now,
        }) is None:
            # A twin got here first (SQLite ran it before us): its answer is the answer.
            return await _replay(session, scope, idempotency_key, digest)
    await hand_off(session, order_id=order.id, order_number=order.number,
                   locations=draft.routed_to, actor=principal.actor)
    for event in draft.events:
        await record_event(session, topic="order", type=event.type, subject=order.number,
                           actor=principal.actor, data=event.data)
    return Captured(order=answer)


# --- reading ---------------------------------------------------------------------------------


async def visible_to(session: AsyncSession, order: Order, principal: Principal) -> bool:
    """Managers see every order; a channel its own; an associate their location's."""
    if principal.role in ("admin", "manager"):
        return True
    if principal.role == "channel":
        return order.channel == principal.channel
    if principal.location is None:
        return False
    if order.pickup_location == principal.location:
        return True
    return bool(await session.scalar(select(exists().where(
        OrderAllocation.order_id == order.id, OrderAllocation.location == principal.location))))


async def find_order(
    session: AsyncSession, number: str, principal: Principal, *, for_update: bool = False
) -> Order:
    """The order, if it exists and the caller may see it; ``order_not_found`` otherwise."""
    query = select(Order).where(Order.number == number)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = await session.scalar(query)
    if order is None or not await visible_to(session, order, principal):
        raise _not_found(number)
    return order


async def find_by_external_ref(session: AsyncSession, channel: str, external_ref: str) -> Order:
    order = await session.scalar(
        select(Order).where(Order.channel == channel, Order.external_ref == external_ref))
    if order is None:  # it was there a moment ago: only a concurrent delete explains this
        raise Conflict("The order with this external reference changed meanwhile; retry.",
                       code="retry")
    return order


async def lines_and_allocations(
    session: AsyncSession, order_id: uuid.UUID
) -> tuple[list[OrderLine], list[OrderAllocation]]:
    lines = list(await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)))
    allocations = list(await session.scalars(
        select(OrderAllocation).where(OrderAllocation.order_id == order_id)))
    return lines, allocations


async def render(session: AsyncSession, order: Order) -> OrderOut:
    lines, allocations = await lines_and_allocations(session, order.id)
    return order_out(order, lines, allocations)


async def order_events(session: AsyncSession, number: str) -> list[EventOut]:
    return await order_timeline(session, number)


async def order_detail(session: AsyncSession, number: str, principal: Principal) -> OrderDetailOut:
    order = await find_order(session, number, principal)
    base = await render(session, order)
    return OrderDetailOut(**msgspec.structs.asdict(base),
                          timeline=await order_events(session, number))


def encode_cursor(created_at: dt.datetime, order_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{order_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, hex_id = raw.partition("|")
        created_at = dt.datetime.fromisoformat(when)
        if created_at.tzinfo is None:
            raise ValueError("naive")
        return created_at, uuid.UUID(hex=hex_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("This cursor is not one Comptoir gave.", code="invalid_cursor") from exc


def _like_escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _name_search(needle: str) -> bool:
    """Whether ``needle`` (its words one space apart) is a search of several words."""
    return " " in needle and "@" not in needle


def _reference_search(needle: str) -> bool:
    """Whether ``needle`` is one word with a digit, as references are ("SHOP-12", "4242")."""
    return (" " not in needle and "@" not in needle and any(c.isdigit() for c in needle)
            and numbering.parse_number(needle.upper()) is None)


def search_condition(q: str, *, postgres: bool = False, anywhere: bool = False) -> Any:
    """What ``q`` matches, case-insensitively, each through an index on PostgreSQL:

    - a whole order number: that order (b-tree on the number);
    - an e-mail or its beginning (an "@" after the first character): the orders whose customer
      e-mail begins with it (b-tree on the e-mail);
    - one word with a digit ("SHOP-12", "984-412"): the orders whose external reference begins
      with it (``ix_orders_external_ref_prefix``). ``anywhere`` looks for it in any part of the
      number, reference, e-mail or name instead: `list_orders` does when no reference begins
      with it ("4242" for "SHOP-4242", "000123" for an order number, "ada.b2" for an e-mail);
    - several words ("Marie Mar", "ada byron"): the orders whose customer name begins with them
      (``ix_orders_customer_name_prefix``). SQLite, at its scale, looks for them anywhere in
      the number, reference, e-mail and name, which also finds those;
    - else any part of the number, external reference, e-mail or name ("durand", "@example.fr"):
      the trigram index for a rare word, the newest orders filtered for a common one, as the
      planner judges from ``search``'s statistics.

    Whole numbers, e-mails and references are made of trigrams shared by thousands of orders
    ("cmp", "@ex", "202"…), which a trigram index reads slowly; and a trigram index cannot
    tell words that follow each other from words anywhere in the text, so "marie mar" would
    read every Marie.
    """
    needle = " ".join(q.split())
    if numbering.parse_number(needle.upper()) is not None:
        return Order.number == needle.upper()
    escaped = _like_escape(needle.lower())
    if "@" in needle and not needle.startswith("@"):
        return Order.customer_email.like(f"{escaped}%", escape="\\")
    if _reference_search(needle) and not anywhere:
        return func.lower(Order.external_ref).like(f"{escaped}%", escape="\\")
    if postgres and _name_search(needle):
        return func.lower(Order.customer_name).like(f"{escaped}%", escape="\\")
    return Order.search.like(f"%{escaped}%", escape="\\")


async def list_orders(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None = None,
    channel: str | None = None,
    location: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> OrderPage:
    """Orders newest first, keyset-paginated on (created_at, id): no OFFSET, steady at 1M rows.

    With a location (asked for, or an associate's own), the walk goes along that location's
    allocations index instead, which holds the same (created_at, order) keys.

    On PostgreSQL the query is planned for its own values every time (``plan_cache_mode``):
    asyncpg prepares statements, and a plan made once without the values, for a common status
    or word, can walk the whole table for a rare one (and the other way round).
    """
    postgres = is_postgres(session)
    if postgres:
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} orders.", code="invalid_limit")
    if principal.role == "associate":
        if principal.location is None or location not in (None, principal.location):
            return OrderPage(items=[], next_cursor=None)
        location = principal.location
    columns = (
        Order.id, Order.number, Order.status, Order.channel, Order.external_ref,
        Order.created_at, Order.customer_name, Order.customer_email, Order.delivery_method,
        Order.pickup_location, Order.total, Order.currency, Order.version, Order.hold_reason,
    )
    if location:
        # One row per order even when several of its lines are allocated there: grouping
        # follows the index order, so the page still stops after `limit` orders.
        created_at, order_id = OrderAllocation.created_at, OrderAllocation.order_id
        query = (select(*columns).select_from(OrderAllocation)
                 .join(Order, Order.id == OrderAllocation.order_id)
                 .where(OrderAllocation.location == location)
                 .group_by(created_at, order_id, Order.id))
    else:
        created_at, order_id = Order.created_at, Order.id
        query = select(*columns)
    if principal.role == "channel":
        query = query.where(Order.channel == principal.channel)
    if status:
        statuses = [s.strip() for s in status.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in set(lifecycle.Status)]
        if unknown:
            raise InvalidInput(f"Unknown order status {', '.join(unknown)}; one of "
                               f"{', '.join(lifecycle.Status)}.", code="unknown_status")
        query = query.where(Order.status.in_(statuses) if len(statuses) > 1
                            else Order.status == statuses[0])
    if channel:
        query = query.where(Order.channel == channel)
    if created_from is not None:
        query = query.where(created_at >= _utc(created_from))
    if created_to is not None:
        query = query.where(created_at < _utc(created_to))
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(tuple_(created_at, order_id) < (after_at, after_id))
    newest_first = (created_at.desc(), order_id.desc())

    async def page(selection: Any, *, keys_first: bool = False) -> Sequence[Any]:
        if keys_first:
            # Every matching key first, from the name or reference index, then the newest
            # page of them, then only those rows. Walking the newest orders until enough
            # match is no plan here: references follow time (SHOP-1…, SHOP-2…), so the
            # matches of a prefix can all be two years old.
            matches = (selection.with_only_columns(Order.id, Order.created_at)
                       .cte("matches").prefix_with("MATERIALIZED"))
            keys = (select(matches.c.id)
                    .order_by(matches.c.created_at.desc(), matches.c.id.desc()).limit(limit + 1))
            selection = select(*columns).where(Order.id.in_(keys))
        return (await session.execute(
            selection.order_by(*newest_first).limit(limit + 1))).all()

    if q and q.strip():
        needle = " ".join(q.split())
        keys_first = postgres and not location and (
            _name_search(needle) or _reference_search(needle))
        rows = await page(query.where(search_condition(needle, postgres=postgres)),
                          keys_first=keys_first)
        if not rows and _reference_search(needle):
            # Nothing begins with it: anywhere. A page after a cursor is never empty in the
            # first way (the cursor says more follow), so every page of a walk agrees.
            rows = await page(query.where(
                search_condition(needle, postgres=postgres, anywhere=True)))
    else:
        rows = await page(query)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        OrderSummary(number=r.number, status=r.status, channel=r.channel,
                     external_ref=r.external_ref, created_at=r.created_at,
                     customer_name=r.customer_name, customer_email=r.customer_email,
                     delivery_method=r.delivery_method, pickup_location=r.pickup_location,
                     total=r.total, currency=r.currency, version=r.version,
                     hold_reason=r.hold_reason)
        for r in rows
    ]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return OrderPage(items=items, next_cursor=next_cursor)


# --- for customers ----------------------------------------------------------------------------


async def customer_orders(
    session: AsyncSession, customer_id: uuid.UUID, limit: int = 50
) -> list[OrderSummary]:
    """A customer's most recent orders, newest first."""
    rows = await session.scalars(
        select(Order).where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit))
    return [
        OrderSummary(number=o.number, status=o.status, channel=o.channel,
                     external_ref=o.external_ref, created_at=o.created_at,
                     customer_name=o.customer_name, customer_email=o.customer_email,
                     delivery_method=o.delivery_method, pickup_location=o.pickup_location,
                     total=o.total, currency=o.currency, version=o.version,
                     hold_reason=o.hold_reason)
        for o in rows
    ]


async def customer_spending(
    session: AsyncSession, customer_id: uuid.UUID
) -> tuple[int, dict[str, int]]:
    """How many orders a customer placed, and what they spent per currency (not cancelled)."""
    count = await session.scalar(
        select(func.count()).select_from(Order).where(Order.customer_id == customer_id)) or 0
    rows = await session.execute(
        select(Order.currency, func.sum(Order.total))
        .where(Order.customer_id == customer_id, Order.status != Status.CANCELLED.value)
        .group_by(Order.currency))
    return int(count), {currency: int(total or 0) for currency, total in rows}
