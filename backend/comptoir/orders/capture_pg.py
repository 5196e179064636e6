"""The batched capture writer (PostgreSQL): all of a draft's writes in one statement, and
the captures that arrive together in one statement between them.

``PgWriter`` persists an ``OrderDraft`` as ``write_sql.SqlWriter`` does, the rows as the
draft made them; the statement only does what must be atomic at the database: the serial
from the year's sequence (written with the draft's ``NumberFormat``), the customer's upsert,
the unique reference and Idempotency-Key, the daily counts and the reservations. Captures
in flight at the same moment in a process are written together (``together``: a
``Coalescer`` per engine and year), so under load one statement, one commit and one turn
at the event-numbering lock serve many orders. A batch either stands whole or is refused
whole: when one of its orders cannot stand (a level short of units, a repeated
reference...), each of its orders is written again alone (``alone``), where the refusal
is its own and comes back as a ``Refusal``.
"""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Row, bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.elements import TextClause

from comptoir.db.base import DateTimeUTC
from comptoir.db.coalesce import Coalescer
from comptoir.db.engine import batch_engine, limits
from comptoir.inventory import service as inventory
from comptoir.orders import numbering
from comptoir.orders.draft import OrderDraft
from comptoir.orders.rows import Written, row
from comptoir.orders.schemas import CustomerOut
from comptoir.orders.writing import Refusal, Refused

__all__ = ["Item", "PgWriter", "alone", "item_of", "statistics", "together"]

# The message ``orders.models.CAPTURE_REFUSAL_FUNCTION`` raises: its prefix, then the reason.
_REFUSAL_PREFIX = "comptoir capture: "

# Deadlock and serialization failure: the statement lost a race, not an argument.
_RETRYABLE = frozenset({"40P01", "40001"})


@dataclass(slots=True, frozen=True)
class Item:
    """One order's rows, ready to write (``document``), and what they reserve."""

    order_id: uuid.UUID
    year: int
    now: dt.datetime
    document: bytes
    reservations: Mapping[tuple[str, str], int]
    customer_email: str | None  # as the order shows it (lower case)
    # What two orders of one statement must not share: a customer, an external reference,
    # an Idempotency-Key. Each would make the statement refuse itself.
    exclusive: tuple[Hashable, ...]


_encode = msgspec.json.Encoder().encode


def item_of(draft: OrderDraft) -> Item:
    """The draft as the JSON the statement reads (each row turned into its table's row
    type, so every column is named once, in the models). ``capacity``: the order to count
    at each chosen location with a daily capacity (capacity null: counted without a
    check, ``routing.service.DayClaim``)."""
    order, key, customer = draft.order, draft.key, draft.customer
    claim = None if key is None else {
        **row(key), "response": msgspec.Raw(_encode(draft.answer))}
    document = _encode({
        "order": order, "customer": customer, "routed": draft.accepted,
        "lines": draft.lines, "allocations": draft.allocations,
        "decision": draft.decision_row,
        "capacity": [{"location": c.location, "local_day": c.local_day,
                      "capacity": c.capacity} for c in draft.claims],
        "events": draft.event_rows(""), "outbox": draft.outbox_rows(""), "key": claim,
        "number_prefix": draft.numbering.prefix, "number_digits": draft.numbering.digits,
        "search_words": draft.search_words,
    })
    exclusive: list[Hashable] = []
    if order.external_ref is not None:
        exclusive.append(("order", order.channel, order.external_ref))
    if customer is not None:
        exclusive.append(("customer", customer.email_lower))
    if key is not None:
        exclusive.append(("key", key.scope, key.key))
    return Item(order_id=order.id, year=draft.numbering.year, now=order.created_at,
                document=document, reservations=draft.reservations,
                customer_email=order.customer_email, exclusive=tuple(exclusive))


_STATEMENTS: dict[int, TextClause] = {}


def _statement(year: int) -> TextClause:
    """Several captures' writes in one statement (one round trip, one commit).

    In order: the customers, matched by e-mail or created (a customer whose details did not
    change is not locked); the orders, numbered from the year's sequence; their lines,
    allocations, routing decisions, events (``order.captured``, and
    ``order.awaiting_capacity`` for an order that waits) and the 3PL hand-offs; the
    Idempotency-Keys with their answers (made before the number and the customer were
    known: set into them here); then the locations' daily counts, summed per (location,
    day) over the orders and counted and checked in one conditional upsert each, in
    (location, day) order (a day that would go past its capacity counts nothing); then,
    only when every day took its orders, the reservations, summed per level over the
    orders, which lock their levels in (sku, location) order, so two statements never wait
    for each other in opposite orders, and apply the conditional update to each.

    Customers, references and keys are inserted in sorted order, as levels are locked, so
    two statements wait for each other in one direction only. Two batches updating the same
    returning customers in opposite orders could still deadlock: PostgreSQL ends that after
    ``deadlock_timeout`` and the refused batch's orders are written again alone.

    A final check aborts the whole statement, with its reason, when an order cannot stand:
    a customer created by a concurrent capture after this statement's snapshot (a retry
    sees them), a repeated external reference (ON CONFLICT inserted nothing), an order
    routing could not place, an Idempotency-Key another request holds, a location whose
    day filled meanwhile (routing reads the counts again and goes elsewhere, or waits), or
    a level short of units.
    """
    if year not in _STATEMENTS:
        def rows(table: str, field: str) -> str:
            return (f"SELECT r.* FROM input i CROSS JOIN LATERAL jsonb_populate_recordset("
                    f"NULL::{table}, i.e->'{field}') AS r WHERE i.oid IN (SELECT id FROM ord)")

        _STATEMENTS[year] = text(f"""
            WITH input AS MATERIALIZED (
                SELECT CAST(e->'order'->>'id' AS uuid) AS oid, e,
                       {numbering.serial_sql(year)} AS serial
                FROM jsonb_array_elements(CAST(CAST(:orders AS text) AS jsonb)) AS e
            ), given AS (
                SELECT oid, e->'customer' AS c FROM input
                WHERE jsonb_typeof(e->'customer') = 'object'
            ), cust_new AS (
                INSERT INTO customers (id, email, email_lower, name, phone, created_at,
                                       updated_at)
                SELECT CAST(c->>'id' AS uuid), c->>'email', c->>'email_lower', c->>'name',
                       c->>'phone', :now, :now
                FROM given ORDER BY c->>'email_lower'
                ON CONFLICT (email_lower) DO NOTHING
                RETURNING id, email_lower, name, phone
            ), cust_old AS (
                SELECT cu.id, cu.email_lower, coalesce(g.c->>'name', cu.name) AS name,
                       coalesce(g.c->>'phone', cu.phone) AS phone,
                       cu.name AS was_name, cu.phone AS was_phone
                FROM given g JOIN customers cu ON cu.email_lower = g.c->>'email_lower'
            ), cust AS (
                SELECT g.oid, coalesce(n.id, o.id) AS id,
                       CASE WHEN n.id IS NULL THEN o.name ELSE n.name END AS name,
                       CASE WHEN n.id IS NULL THEN o.phone ELSE n.phone END AS phone
                FROM given g
                LEFT JOIN cust_new n ON n.email_lower = g.c->>'email_lower'
                LEFT JOIN cust_old o ON o.email_lower = g.c->>'email_lower'
            ), cust_changed AS (
                UPDATE customers c SET name = o.name, phone = o.phone, updated_at = :now
                FROM cust_old o
                WHERE c.id = o.id AND (o.name IS DISTINCT FROM o.was_name
                                       OR o.phone IS DISTINCT FROM o.was_phone)
            ), ord AS (
                INSERT INTO orders
                SELECT r.* FROM input i
                LEFT JOIN cust ON cust.oid = i.oid
                CROSS JOIN LATERAL (
                    SELECT {numbering.number_sql(
                        "i.serial", "(i.e->>'number_prefix')",
                        "CAST(i.e->>'number_digits' AS integer)")} AS number) AS n
                CROSS JOIN LATERAL jsonb_populate_record(
                    NULL::orders, i.e->'order' || jsonb_build_object(
                        'number', n.number, 'customer_id', cust.id,
                        'customer_name', cust.name, 'customer_phone', cust.phone,
                        'search', lower(n.number) || ' ' || concat_ws(' ',
                            nullif(i.e->>'search_words', ''), lower(nullif(cust.name, ''))))) AS r
                WHERE jsonb_typeof(i.e->'customer') <> 'object' OR cust.id IS NOT NULL
                ORDER BY i.e->'order'->>'external_ref'
                ON CONFLICT ("channel", "external_ref") DO NOTHING
                RETURNING id, number
            ), lines AS (
                INSERT INTO order_lines {rows("order_lines", "lines")}
            ), allocations AS (
                INSERT INTO order_allocations {rows("order_allocations", "allocations")}
            ), decision AS (
                INSERT INTO routing_decisions
                SELECT r.* FROM input i JOIN ord ON ord.id = i.oid
                CROSS JOIN LATERAL jsonb_populate_record(
                    NULL::routing_decisions,
                    i.e->'decision' || jsonb_build_object('order_number', ord.number)) AS r
                RETURNING id
            ), event AS (
                INSERT INTO events
                SELECT r.* FROM input i JOIN ord ON ord.id = i.oid
                CROSS JOIN jsonb_array_elements(i.e->'events') WITH ORDINALITY AS m(row, n)
                CROSS JOIN LATERAL jsonb_populate_record(
                    NULL::events, m.row || jsonb_build_object('subject', ord.number)) AS r
                ORDER BY i.oid, m.n
            ), hand_offs AS (
                INSERT INTO outbox
                SELECT r.* FROM input i JOIN ord ON ord.id = i.oid
                CROSS JOIN jsonb_array_elements(i.e->'outbox') AS m(row)
                CROSS JOIN LATERAL jsonb_populate_record(NULL::outbox, jsonb_set(
                    m.row, '{{payload,order_number}}', to_jsonb(ord.number))) AS r
            ), claim AS (
                INSERT INTO idempotency_keys (id, scope, key, request_hash, status_code,
                                              response, order_id, created_at)
                SELECT CAST(k->>'id' AS uuid), k->>'scope', k->>'key', k->>'request_hash', 201,
                       CAST(jsonb_set(
                           jsonb_set(k->'response', '{{number}}', to_jsonb(ord.number)),
                           '{{customer}}',
                           CASE WHEN cust.id IS NULL THEN k->'response'->'customer'
                                ELSE k->'response'->'customer' || jsonb_build_object(
                                    'id', cust.id, 'name', cust.name, 'phone', cust.phone)
                           END) AS text),
                       ord.id, :now
                FROM input i
                CROSS JOIN LATERAL (SELECT i.e->'key' AS k) AS claimed
                JOIN ord ON ord.id = i.oid
                LEFT JOIN cust ON cust.oid = i.oid
                WHERE jsonb_typeof(i.e->'key') = 'object'
                ORDER BY k->>'scope', k->>'key'
                ON CONFLICT (scope, key) DO NOTHING
                RETURNING id
            ), day_wanted AS (
                SELECT c.location, c.local_day, count(*) AS orders, min(c.capacity) AS capacity
                FROM input i CROSS JOIN LATERAL jsonb_to_recordset(i.e->'capacity')
                    AS c(location varchar, local_day date, capacity integer)
                GROUP BY c.location, c.local_day
            ), day_counted AS (
                INSERT INTO routing_daily_counts AS d (location, local_day, routed, capacity)
                SELECT location, local_day, orders, capacity FROM day_wanted
                WHERE (capacity IS NULL OR orders <= capacity)
                  AND (SELECT count(*) FROM ord) = (SELECT count(*) FROM input)
                ORDER BY location, local_day
                ON CONFLICT (location, local_day) DO UPDATE
                SET routed = d.routed + excluded.routed,
                    capacity = coalesce(excluded.capacity, d.capacity)
                WHERE excluded.capacity IS NULL OR d.routed + excluded.routed <= excluded.capacity
                RETURNING location
            ), {inventory.reserve_ctes(
                "(SELECT count(*) FROM ord) = (SELECT count(*) FROM input) AND "
                "(SELECT count(*) FROM day_counted) = (SELECT count(*) FROM day_wanted)")}
            SELECT i.oid AS order_id, ord.number, cust.id AS customer_id,
                   cust.name AS customer_name, cust.phone AS customer_phone,
                   comptoir_capture_refused(CASE
                       WHEN EXISTS (SELECT FROM given g LEFT JOIN cust c ON c.oid = g.oid
                                    WHERE c.id IS NULL) THEN 'customer_not_visible'
                       WHEN (SELECT count(*) FROM ord) < (SELECT count(*) FROM input)
                           THEN 'repeated_external_ref'
                       WHEN EXISTS (SELECT FROM input WHERE NOT CAST(e->>'routed' AS boolean))
                           THEN 'not_routed'
                       WHEN (SELECT count(*) FROM claim) < (
                               SELECT count(*) FROM input
                               WHERE jsonb_typeof(e->'key') = 'object')
                           THEN 'idempotency_key_taken'
                       WHEN (SELECT count(*) FROM day_counted) < (SELECT count(*) FROM day_wanted)
                           THEN 'at_capacity'
                       WHEN (SELECT count(*) FROM reserved) < CAST(:wanted AS integer)
                           THEN 'short'
                   END) AS refused
            FROM input i LEFT JOIN ord ON ord.id = i.oid LEFT JOIN cust ON cust.oid = i.oid
        """).bindparams(bindparam("now", type_=DateTimeUTC(timezone=True)))
    return _STATEMENTS[year]


def _refusal(error: DBAPIError) -> Refusal | None:
    """The reason the statement's final check gave (``comptoir_capture_refused``: SQLSTATE
    P0001, its primary message the prefix and a ``Refusal``), when that is what aborted it."""
    cause = error.orig.__cause__ if error.orig is not None else None
    message = getattr(cause, "message", None)
    if getattr(error.orig, "sqlstate", None) != "P0001" or not isinstance(message, str):
        return None
    reason = message.removeprefix(_REFUSAL_PREFIX)
    return Refusal(reason) if reason in set(Refusal) and reason != message else None


async def _write(
    connection: AsyncConnection, items: Sequence[Item]
) -> list[Written] | Refused:
    wanted: dict[tuple[str, str], int] = {}
    for item in items:
        for level, quantity in item.reservations.items():
            wanted[level] = wanted.get(level, 0) + quantity
    params = {
        "orders": (b"[" + b",".join(item.document for item in items) + b"]").decode(),
        "wanted": len(wanted),
        **inventory.reserve_all_params(wanted, max(item.now for item in items)),
    }
    try:
        rows = (await connection.execute(_statement(items[0].year), params)).all()
    except DBAPIError as error:
        reason = _refusal(error)
        if len(items) > 1:
            # Whatever refused it (one order's reason, or a deadlock between two batches
            # over customers or references), each order is written again alone.
            return Refused(Refusal.RACE)
        if reason is None and getattr(error.orig, "sqlstate", None) not in _RETRYABLE:
            raise
        return Refused(reason or Refusal.RACE)
    by_order = {found.order_id: found for found in rows}
    return [_written(by_order[item.order_id], item) for item in items]


def _written(found: Row[Any], item: Item) -> Written:
    customer = None if found.customer_id is None else CustomerOut(
        id=found.customer_id, email=item.customer_email, name=found.customer_name,
        phone=found.customer_phone)
    return Written(number=found.number, customer=customer)


async def alone(connection: AsyncConnection, item: Item) -> Written | Refused:
    """Write one order on the caller's connection (autocommit, or the caller's transaction)."""
    written = await _write(connection, [item])
    return written if isinstance(written, Refused) else written[0]


_together: weakref.WeakKeyDictionary[AsyncEngine, dict[int, Coalescer[Item, Written | Refused]]]
_together = weakref.WeakKeyDictionary()


def _exclusive(item: Item) -> Iterable[Hashable]:
    return item.exclusive


async def together(engine: AsyncEngine, item: Item) -> Written | Refused:
    """Write the order with whatever other captures of this process are writing meanwhile,
    each statement in its own autocommit transaction, on the batch engine's connection
    (``db.engine.batch_engine``): the caller holds no connection while it waits.

    Always the order's own answer: a batch refused as a whole is written again, order by
    order, on the same connection. Raises ``Saturated`` (nothing written) when too many
    captures wait already, or when this one waited ``queue_timeout`` for its statement."""
    by_year = _together.setdefault(engine, {})
    coalescer = by_year.get(item.year)
    if coalescer is None:
        writer = batch_engine(engine)

        async def run(items: Sequence[Item]) -> list[Written | Refused]:
            async with writer.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                written = await _write(connection, items)
                if not isinstance(written, Refused):
                    return list(written)
                # One of them cannot stand (or two batches deadlocked): each alone.
                return [await alone(connection, one) for one in items]

        bounds = limits(engine)
        coalescer = by_year[item.year] = Coalescer(
            run, limit=bounds.capture_batch, keys=_exclusive,
            max_waiting=bounds.max_waiting_captures, max_wait=bounds.queue_timeout)
    return await coalescer.submit(item)


def statistics(engine: AsyncEngine) -> tuple[int, int]:
    """Batches written together by this process so far, and the orders they held."""
    coalescers = _together.get(engine, {}).values()
    return sum(c.batches for c in coalescers), sum(c.items for c in coalescers)


async def _autocommit(session: AsyncSession) -> AsyncConnection:
    """The session's connection, in autocommit unless the caller's transaction holds it."""
    if not session.in_transaction():
        return await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return await session.connection()


class PgWriter:
    """Writes each draft in one statement of its own, in autocommit: no BEGIN and no COMMIT,
    two round trips fewer. Captures that arrive together share their statements
    (``together``), on connections of their own, unless the caller holds a transaction:
    then the order is written in it (``alone``), and commits with it."""

    def __init__(self, session: AsyncSession) -> None:
        engine = session.bind if isinstance(session.bind, AsyncEngine) else None
        self.engine = engine if engine is not None and not session.in_transaction() else None

    async def prepare(self, session: AsyncSession, year: int) -> AsyncEngine | None:
        if isinstance(session.bind, AsyncEngine):
            await numbering.prepare_year(session.bind, year)
        if self.engine is None:
            await _autocommit(session)
        return self.engine

    async def write(self, session: AsyncSession, draft: OrderDraft) -> Written | Refused:
        item = item_of(draft)
        if self.engine is None:
            return await alone(await _autocommit(session), item)
        if session.in_transaction():
            # Routing read today's counts in the session: give its connection back before
            # waiting for the shared statement (one connection at a time).
            await session.rollback()
        written = await together(self.engine, item)
        if isinstance(written, Refused):
            return written
        return Written(written.number, written.customer, committed=True)
