"""Order capture on PostgreSQL: all of a capture's writes in one statement, and the
captures that arrive together in one statement between them.

``orders.service.capture`` reads and routes each order, then hands the rows to write here
as an ``Item``. Captures in flight at the same moment in a process are written together
(``together``: a ``Coalescer`` per engine and year), so under load one statement, one
commit and one turn at the event-numbering lock serve many orders. A batch either stands
whole or is refused whole: when one of its orders cannot stand (a level short of units, a
repeated reference...), each of its orders is written again alone (``alone``), where the
refusal is its own and says why.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import weakref
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import TextClause

from comptoir.db.base import DateTimeUTC
from comptoir.db.coalesce import Coalescer
from comptoir.db.engine import batch_engine, limits
from comptoir.inventory import service as inventory
from comptoir.orders import numbering

__all__ = ["Item", "Refused", "Written", "alone", "document", "statistics", "together"]

_REFUSED = re.compile(r"comptoir capture: (\w+)")


@dataclass(slots=True, frozen=True)
class Written:
    """What the statement decided for an order: its number, and its customer as stored."""

    number: str
    customer_id: uuid.UUID | None
    customer_name: str | None
    customer_phone: str | None


@dataclass(slots=True, frozen=True)
class Refused:
    """The statement was refused: ``reason`` is the order's own when it was written alone;
    None when the world moved under it (refused with others, or a deadlock or
    serialization failure between statements): written again, it may stand."""

    reason: str | None


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
    # What two orders of one statement must not share: a customer, an external reference,
    # an Idempotency-Key. Each would make the statement refuse itself.
    exclusive: tuple[Hashable, ...]


_encode = msgspec.json.Encoder().encode


def document(
    *, order: Mapping[str, Any], customer: Mapping[str, Any] | None, routed: bool,
    lines: Sequence[Mapping[str, Any]], allocations: Sequence[Mapping[str, Any]],
    decision: Mapping[str, Any], capacity: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]], outbox: Sequence[Mapping[str, Any]],
    key: Mapping[str, Any] | None, response: bytes | None,
) -> bytes:
    """An order's rows as the JSON the statement reads (each turned into its table's row
    type, so every column is named once, in the models). The number, the customer and
    the search text are the statement's to fill in. ``capacity``: the order to count at
    each chosen location with a daily capacity ({location, local_day, capacity}; capacity
    null: counted without a check, ``routing.service.DayClaim``)."""
    claim = None if key is None else {**key, "response": msgspec.Raw(response or b"null")}
    return _encode({
        "order": order, "customer": customer, "routed": routed, "lines": lines,
        "allocations": allocations, "decision": decision, "capacity": capacity,
        "events": events, "outbox": outbox, "key": claim,
    })


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
                    SELECT {numbering.number_sql(year, "i.serial")} AS number) AS n
                CROSS JOIN LATERAL jsonb_populate_record(
                    NULL::orders, i.e->'order' || jsonb_build_object(
                        'number', n.number, 'customer_id', cust.id,
                        'customer_name', cust.name, 'customer_phone', cust.phone,
                        'search', lower(n.number) || ' ' || lower(concat_ws(' ',
                            i.e->'order'->>'external_ref', i.e->'customer'->>'email',
                            nullif(cust.name, ''))))) AS r
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
                                ELSE jsonb_build_object(
                                    'id', cust.id, 'email', i.e->'customer'->>'email_lower',
                                    'name', cust.name, 'phone', cust.phone) END) AS text),
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


def _reason(error: DBAPIError) -> str | None:
    """The reason the statement's final check gave, when that is what aborted it."""
    found = _REFUSED.search(str(error.orig))
    return found.group(1) if found else None


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
        reason = _reason(error)
        if len(items) > 1:
            # Whatever refused it (one order's reason, or a deadlock between two batches
            # over customers or references), each order is written again alone.
            return Refused(None)
        if reason is None and getattr(error.orig, "sqlstate", None) not in _RETRYABLE:
            raise
        return Refused(reason)
    by_order = {row.order_id: row for row in rows}
    return [Written(number=row.number, customer_id=row.customer_id,
                    customer_name=row.customer_name, customer_phone=row.customer_phone)
            for row in (by_order[item.order_id] for item in items)]


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
