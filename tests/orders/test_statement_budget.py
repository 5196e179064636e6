"""A capture is a handful of SQL statements, not hundreds: the budget is checked here."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from tests.orders.conftest import EVERY_RULE, Rules, order_body

BUDGET = 12
# True in the measuring block's own task (and what it runs in-process), False elsewhere.
_MEASURED = contextvars.ContextVar("measured", default=False)


@contextmanager
def statements(app: Any, *, this_task_only: bool = False) -> Iterator[list[str]]:
    """Every SQL statement the app's engines send while the block runs (the requests' one,
    and the one of the statements captures share). ``this_task_only``: only those sent for
    the block's own requests (an in-process client runs the app in the caller's task), not
    the live feed's reads of the events a capture just committed, which land whenever the
    hub's task gets its turn."""
    from comptoir.db.engine import batch_engine

    seen: list[str] = []
    token = _MEASURED.set(True)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if this_task_only and not _MEASURED.get():
            return
        seen.append(" ".join(statement.split())[:120])

    engines = {app.state.engine.sync_engine, batch_engine(app.state.engine).sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        _MEASURED.reset(token)
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def test_a_one_line_capture_takes_at_most_twelve_statements(
    app: Any, web: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 100})
    # Warm up: configuration cache, API key, the year's number sequence.
    assert (await web.post("/api/orders", json=order_body(("TEE", 1)))).status_code == 201
    for headers in ({}, {"Idempotency-Key": "budget-1"}):
        body = order_body(("TEE", 1), external_ref=f"BUDGET-{len(headers)}")
        body["customer"]["email"] = f"new-{len(headers)}@example.fr"  # a new customer
        with statements(app) as seen:
            response = await web.post("/api/orders", json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert len(seen) <= BUDGET, "\n".join(seen)
        # The order's own writes were seen (on PostgreSQL, the shared statement's CTEs).
        assert any(sql.startswith(("INSERT INTO orders", "WITH input")) for sql in seen), (
            "\n".join(seen))


async def test_a_basket_mixing_vat_rates_takes_no_more_statements(
    app: Any, web: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 100})
    await catalog.add("BOOK", stock={"WH-PARIS": 100}, tax_class="super_reduced")
    await catalog.add("PLANT", stock={"WH-PARIS": 100}, tax_class="reduced")
    assert (await web.post("/api/orders", json=order_body(("TEE", 1)))).status_code == 201
    body = order_body(("TEE", 1), ("BOOK", 2), ("PLANT", 1), external_ref="BUDGET-MIXED")
    with statements(app) as seen:
        response = await web.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    assert {line["vat_rate_bp"] for line in response.json()["lines"]} == {2000, 1000, 550}
    assert len(seen) <= BUDGET, "\n".join(seen)


async def test_reading_an_order_takes_a_few_statements(
    app: Any, web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 100})
    number = (await web.post("/api/orders", json=order_body(("TEE", 1)))).json()["number"]
    with statements(app, this_task_only=True) as seen:
        assert (await manager.get(f"/api/orders/{number}")).status_code == 200
    assert len(seen) <= 5, "\n".join(seen)
    with statements(app, this_task_only=True) as seen:
        assert (await manager.get("/api/orders")).status_code == 200
    assert len(seen) <= 2, "\n".join(seen)


async def test_fraud_screening_keeps_capture_within_its_budget(
    app: Any, web: httpx.AsyncClient, catalog: Any, fraud_rules: Rules
) -> None:
    """Rules that look only at the order read nothing; every history rule together (new
    customer, velocity by e-mail, phone and address, cards) costs one statement."""
    from comptoir.inventory.service import forget_recent_reads

    await catalog.add("TEE", stock={"WH-PARIS": 100})
    assert (await web.post("/api/orders", json=order_body(("TEE", 1)))).status_code == 201

    async def counted(tag: str) -> int:
        forget_recent_reads()  # each capture reads its SKUs afresh (PostgreSQL: 2, not 1)
        body = order_body(("TEE", 1), external_ref=f"BUDGET-FRAUD-{tag}",
                          billing={"country": "FR"},
                          payment={"provider": "sandbox", "token": f"tok_{tag}",
                                   "amount": 1490})
        body["customer"]["email"] = f"fraud-{tag}@example.fr"
        with statements(app) as seen:
            response = await web.post("/api/orders", json=body)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "confirmed"
        assert len(seen) <= BUDGET, "\n".join(seen)
        # Less the live feed's read of the events an earlier capture committed (PostgreSQL),
        # which lands whenever the hub gets its turn.
        return len([sql for sql in seen if not sql.startswith("SELECT events.")])

    unscreened = await counted("off")
    history_free = [rule for rule in EVERY_RULE if rule["kind"] in (
        "amount_over", "countries_differ", "watched_postcode", "watched_email_domain")]
    await fraud_rules(1000, *history_free)
    assert await counted("order-only") == unscreened
    await fraud_rules(1000, *[rule for rule in EVERY_RULE if rule not in history_free])
    assert await counted("every-rule") <= unscreened + 1
