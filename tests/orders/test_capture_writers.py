"""PostgreSQL: the batched writer (capture_pg.PgWriter) and the plain one (write_sql.SqlWriter)
persist the same drafts as the same rows, and refuse the same writes with the same value.

The same captures (new and returning customers, Idempotency-Keys and a replay, a pickup, a
split over two warehouses, a 3PL hand-off, a repeated external reference, an order short of
stock, a basket mixing three VAT rates with shipping) go through the API once with each
writer, from the same catalog and stock; then the rows of every table capture writes are
compared, table by table. What the database generates differs from run to run and is
replaced by a label before comparing:
- an order's id and number become ``order#n`` (n: its rank by creation time), a line's id
  ``order#n/line#p``, a customer's id ``customer:<e-mail>``; every other UUID ``<id>``;
- times (``created_at``, ``updated_at``, ``at``, ``available_at``…) and an event's ``seq``
  are left out, as are the random ``tracking_token`` and ``pickup_code``;
- JSON columns (event data, outbox payloads, stored answers, decisions) are compared as
  parsed JSON with the same labels (a stored answer is text: JSONB's and msgspec's spacing
  differ).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import select

from comptoir.auth.schemas import Principal
from comptoir.db.base import utcnow
from comptoir.orders import capture as capture_module
from comptoir.orders.capture_pg import PgWriter
from comptoir.orders.checks import check_capture
from comptoir.orders.draft import draft_order
from comptoir.orders.schemas import OrderIn
from comptoir.orders.write_sql import SqlWriter
from comptoir.orders.writing import CaptureWriter, Refusal, Refused
from tests.orders.conftest import Rules, order_body, pickup

pytestmark = pytest.mark.postgres

THREE_PL = "3PL-WRITERS"
TABLES = ("orders", "order_lines", "order_allocations", "inventory_levels", "customers",
          "events", "outbox", "idempotency_keys", "routing_decisions", "routing_daily_counts")
LEFT_OUT = {"seq", "created_at", "updated_at", "at", "available_at", "claimed_until",
            "delivered_at", "tracking_token", "pickup_code"}
NUMBER = re.compile(r"cmp-\d{4}-\d{6,}", re.IGNORECASE)
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
STOCK = {"TEE": {"WH-PARIS": 20}, "CAP": {"WH-LYON": 5}, "MUG": {"ST-LYON-01": 3},
         "BOX": {THREE_PL: 4}, "RARE": {"WH-PARIS": 1}, "BOOK": {"WH-PARIS": 5},
         "PLANT": {"WH-PARIS": 5}}
TAX_CLASSES = {"BOOK": "super_reduced", "PLANT": "reduced"}


@pytest.fixture
async def three_pl() -> AsyncIterator[str]:
    from comptoir.config import service as config
    from comptoir.config.models import Location

    await Location(code=THREE_PL, name="Logistique Test", kind="3pl", city="Lyon",
                   latitude=45.75, longitude=4.85, ships=True, serves_pickups=False,
                   webhook_url="http://127.0.0.1:9/hand-off",
                   webhook_secret="s3cr3t-shared-with-the-3pl-0123456789").save()
    config.invalidate()
    yield THREE_PL
    await Location.delete().where(Location.code == THREE_PL)
    config.invalidate()


def _with_writer(monkeypatch: pytest.MonkeyPatch, make: Callable[[Any], CaptureWriter]) -> None:
    monkeypatch.setattr(capture_module, "writer_for", make)


async def _captures(web: httpx.AsyncClient) -> list[tuple[int, str | None]]:
    """The scenario: each answer's status and error code."""
    returning = {"email": "ADA@example.fr", "phone": "+33700000000"}  # no name: the stored one
    sent: list[tuple[dict[str, Any], dict[str, str]]] = [
        (order_body(("TEE", 2)), {}),
        (order_body(("TEE", 1), customer=returning), {"Idempotency-Key": "writers-1"}),
        (order_body(("TEE", 1), customer=returning), {"Idempotency-Key": "writers-1"}),
        (order_body(("MUG", 1), delivery=pickup("ST-LYON-01"), external_ref="SHOP-1",
                    customer={"email": "grace@example.fr", "name": "Grace Hopper"}), {}),
        (order_body(("MUG", 1), delivery=pickup("ST-LYON-01"), external_ref="SHOP-1"), {}),
        (order_body(("TEE", 1), ("CAP", 2), external_ref="SHOP-2"), {}),
        (order_body(("BOX", 1), customer=None), {"Idempotency-Key": "writers-2"}),
        (order_body(("RARE", 2)), {}),
        (order_body(("RARE", 5), external_ref="SHOP-3"), {}),
        (order_body(("TEE", 1), ("BOOK", 2), ("PLANT", 1)), {}),  # 20 %, 5.5 %, 10 %
        # Screened (a watched domain, billing abroad: under the threshold), then held for
        # suspected fraud (a second card, a second order): its score, reasons, card and
        # address digests, and order.held after order.captured.
        (order_body(("TEE", 1), customer={"email": "ada@fraud.example", "phone": "+3361"},
                    billing={"country": "BE"}, payment={"provider": "sandbox",
                                                        "token": "tok_1", "amount": 1490}),
         {"Idempotency-Key": "writers-3"}),
        (order_body(("TEE", 1), customer={"email": "ada@fraud.example"},
                    payment={"provider": "sandbox", "token": "tok_2", "amount": 1490}), {}),
    ]
    answers = []
    for body, headers in sent:
        response = await web.post("/api/orders", json=body, headers=headers)
        assert response.status_code < 500, response.text
        code = response.json().get("code") if response.status_code >= 400 else None
        answers.append((response.status_code, code))
    return answers


def _label(value: Any, labels: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _label(v, labels) for k, v in value.items() if k not in LEFT_OUT}
    if isinstance(value, list | tuple):
        return [_label(v, labels) for v in value]
    if isinstance(value, uuid.UUID):
        return labels.get(str(value), "<id>")
    if isinstance(value, dt.datetime | dt.date):
        return "<time>" if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, str):
        if value.startswith(("{", "[")):
            try:
                return _label(json.loads(value), labels)
            except ValueError:
                pass
        value = NUMBER.sub(lambda m: labels.get(m.group(0).upper(), "<number>"), value)
        return UUID.sub(lambda m: labels.get(str(uuid.UUID(m.group(0))), "<id>"), value)
    return value


async def _rows(sessionmaker: Any) -> dict[str, list[str]]:
    """Every row of the tables capture writes, labelled (see the module's docstring)."""
    from comptoir.db.registry import Base

    tables = {name: Base.metadata.tables[name] for name in TABLES}
    async with sessionmaker() as session:
        raw = {name: [dict(r._mapping) for r in await session.execute(select(table))]
               for name, table in tables.items()}
    labels: dict[str, str] = {}
    orders = sorted(raw["orders"], key=lambda o: (o["created_at"], o["number"]))
    for rank, order in enumerate(orders, start=1):
        labels[str(order["id"])] = labels[order["number"]] = f"order#{rank}"
    for line in raw["order_lines"]:
        labels[str(line["id"])] = f"{labels[str(line['order_id'])]}/line#{line['position']}"
    for customer in raw["customers"]:
        labels[str(customer["id"])] = f"customer:{customer['email_lower']}"
    return {name: sorted(json.dumps(_label(r, labels), sort_keys=True, default=str)
                         for r in rows) for name, rows in raw.items()}


async def _reset(sessionmaker: Any, catalog: Any) -> None:
    from comptoir.db.registry import Base
    from comptoir.inventory.service import forget_recent_reads
    from tests.conftest import OPERATIONAL_KEEP

    async with sessionmaker() as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in OPERATIONAL_KEEP:
                await session.execute(table.delete())
    forget_recent_reads()
    for sku, stock in STOCK.items():
        await catalog.add(sku, stock=stock, tax_class=TAX_CLASSES.get(sku, "standard"))


async def test_both_writers_leave_the_same_rows_for_the_same_captures(
    web: httpx.AsyncClient, sessionmaker: Any, catalog: Any, three_pl: str,
    monkeypatch: pytest.MonkeyPatch, fraud_rules: Rules,
) -> None:
    await fraud_rules(
        50, {"kind": "watched_email_domain", "points": 40, "values": "fraud.example"},
        {"kind": "countries_differ", "points": 5},
        {"kind": "many_cards", "points": 20, "at_least": 2, "minutes": 60},
        {"kind": "velocity_email", "points": 1, "at_least": 2, "minutes": 60},
        {"kind": "velocity_address", "points": 1, "at_least": 50, "minutes": 60})
    seen = {}
    for name, make in (("pg", PgWriter), ("sql", lambda _session: SqlWriter())):
        await _reset(sessionmaker, catalog)
        _with_writer(monkeypatch, make)
        answers = await _captures(web)
        seen[name] = (answers, await _rows(sessionmaker))
    assert seen["pg"][0] == seen["sql"][0] == [
        (201, None), (201, None), (201, None), (201, None), (200, None), (201, None),
        (201, None), (409, "out_of_stock"), (409, "out_of_stock"), (201, None), (201, None),
        (201, None)]
    pg_rows, sql_rows = seen["pg"][1], seen["sql"][1]
    for table in TABLES:
        assert pg_rows[table] == sql_rows[table], table
    # One 3PL hand-off, and the authorization of each of the two orders paid by card.
    assert len(pg_rows["orders"]) == 8 and len(pg_rows["outbox"]) == 3
    assert sorted(json.loads(row)["kind"] for row in pg_rows["outbox"]) == [
        "fulfillment.3pl_hand_off", "payment.authorize", "payment.authorize"]
    orders = [json.loads(order) for order in pg_rows["orders"]]
    screened = sorted((o["status"], o["fraud_score"]) for o in orders
                      if o["customer_email"] == "ada@fraud.example")
    assert screened == [("confirmed", 45), ("on_hold", 61)]
    assert all(o["fraud_threshold"] == 50 for o in orders)
    assert sum('"order.held"' in event for event in pg_rows["events"]) == 1
    # Each line stored its own rate, the same through both writers.
    rates = {json.loads(line)["sku"]: json.loads(line)["vat_rate_bp"]
             for line in pg_rows["order_lines"]}
    assert (rates["TEE"], rates["BOOK"], rates["PLANT"]) == (2000, 550, 1000)
    assert len(pg_rows["idempotency_keys"]) == 3
    assert any('"location": "WH-LYON"' in a for a in pg_rows["order_allocations"])


async def _draft(session: Any, web: httpx.AsyncClient, body: dict[str, Any],
                 key: str | None = None) -> Any:
    """A draft of ``body`` as the web channel's capture would make it (read, routed)."""
    me = (await web.get("/api/auth/me")).json()
    principal = Principal(**{k: v for k, v in me.items() if k in Principal.__struct_fields__})
    request = await check_capture(msgspec.convert(body, OrderIn), principal, key)
    facts = await capture_module.load(session, request, None, utcnow(), recent=False,
                                      limits_taken=False)
    return draft_order(request, facts)


@pytest.mark.parametrize("writer", ["pg", "sql"])
async def test_each_writer_answers_a_refused_write_with_its_reason_and_leaves_nothing(
    writer: str, web: httpx.AsyncClient, sessionmaker: Any, catalog: Any, level: Any,
    stored: Any,
) -> None:
    from comptoir.inventory import service as inventory

    await catalog.add("TEE", stock={"WH-PARIS": 3})
    first = await web.post("/api/orders", json=order_body(("TEE", 1), external_ref="W-1"),
                           headers={"Idempotency-Key": "w-key"})
    assert first.status_code == 201, first.text
    cases = [
        (order_body(("TEE", 1), external_ref="W-1"), None, Refusal.REPEATED_EXTERNAL_REF),
        (order_body(("TEE", 1), external_ref="W-2"), "w-key", Refusal.IDEMPOTENCY_KEY_TAKEN),
        (order_body(("TEE", 2), external_ref="W-3"), None, Refusal.SHORT),
    ]
    for body, key, reason in cases:
        async with sessionmaker() as session:
            draft = await _draft(session, web, body, key)
            await session.rollback()
            if reason is Refusal.SHORT:  # the world moves between the read and the write
                async with sessionmaker() as other, other.begin():
                    await inventory.adjust(other, sku="TEE", location="WH-PARIS", delta=-1,
                                           reason="damaged", actor="test", kind="adjustment")
            before = await stored()
            chosen: CaptureWriter = PgWriter(session) if writer == "pg" else SqlWriter()
            await chosen.prepare(session, draft.numbering.year)
            assert await chosen.write(session, draft) == Refused(reason)
            await session.rollback()
        assert await stored() == before, reason
    assert await level("TEE", "WH-PARIS") == (2, 1, 1)
