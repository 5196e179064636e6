"""Order capture under load: Comptoir against a one-INSERT Litestar baseline; an oversell burst.

    .venv/bin/python benchmarks/order_capture.py                      # SQLite (temporary file)
    .venv/bin/python benchmarks/order_capture.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/test      # a fresh database there
    options: --orders N --rounds R --concurrency C --workers W --client raw|httpx --quick

What it does, on a throw-away database (SQLite in a temporary directory, or a new PostgreSQL
database ``comptoir_bench_<random>`` on the given server, dropped at the end):

1. migrates; configures a channel "web" (EUR), two warehouses and a pickup store, VAT and
   shipping rates; a catalog of ``--skus`` SKUs with plenty of stock plus one scarce SKU with
   exactly ``--scarce-units`` units; an API key for the channel;
2. counts the SQL statements of a few one-line captures in this process (an app built by
   ``create_app`` on the same database, a SQLAlchemy ``before_cursor_execute`` listener,
   plus BEGIN/COMMIT and pool pre-pings counted from engine and pool events);
3. serves the baseline (benchmarks/_baseline_app.py: msgspec body, one INSERT, 201) and
   Comptoir (``python -m comptoir serve --no-migrate --workers W``), both with uvicorn and
   ``--workers`` processes, and warms both up;
4. runs ``--rounds`` rounds (default 3): the same number of one-line orders to the baseline,
   then to ``POST /api/orders`` (half of them with an Idempotency-Key, 60 % from returning
   customers). This machine is a shared VM whose speed drifts by 10-20 % from one minute to
   the next: interleaved rounds put both sides of the ratio under the same drift, and the
   targets are judged on the median round of each side (every round is printed). Then,
   unless ``--quick``, a mixed run (1-4 lines, 20 % pickups);
   With ``--sweep 32,128,512,1000``, then a concurrency sweep: one-line orders from that many
   simultaneous clients, level after level, with throughput, p50/p99 and the share of 503s
   (each must carry Retry-After; no other 5xx, no transport error, every 201 stored);
   ``--sweep-only`` skips the rounds;
5. fires a burst of concurrent orders for the scarce SKU (half of them with a second,
   plentiful line) and checks, from the database, that nothing was oversold, and that the
   burst was answered within 5 s without a 5xx (``--burst 300 --scarce-units 7``: a sale's
   last units).

Orders/s and latencies are measured by the load generator in this process: a closed loop of
``--concurrency`` keep-alive HTTP/1.1 connections, each sending its next request when the
answer to the previous one is in. Its own CPU is printed with the results (the load
generator shares the machine with the servers and the database: it is "included").
The exit status is 1 when the oversell check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ROOT,
    LoadResult,
    Request,
    Scratch,
    free_port,
    loadavg,
    percentile,
    process_env,
    run_fast,
    run_load,
    start_server,
    stop_server,
    verdict,
)

WAREHOUSES = [("WH-PARIS", "Entrepôt Paris Nord", 48.93, 2.36),
              ("WH-LYON", "Entrepôt Lyon", 45.73, 4.92)]
STORE = ("ST-LYON-01", "Comptoir Lyon Presqu'île", 45.76, 4.83)
SCARCE = "BENCH-SCARCE"
PLENTY = 1_000_000  # units of each ordinary SKU at each warehouse
FIRST_NAMES = ["Ada", "Louise", "Camille", "Jules", "Léa", "Hugo", "Chloé", "Louis", "Manon",
               "Gabriel", "Inès", "Arthur", "Jade", "Raphaël", "Alice", "Paul"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Roux"]
ADDRESSES = [("3 rue de la Paix", "75002", "Paris"), ("12 quai Saint-Antoine", "69002", "Lyon"),
             ("8 cours Julien", "13006", "Marseille"), ("41 rue Nationale", "59000", "Lille")]

TARGET_RATE = 500.0
GOAL_RATE = 1000.0
TARGET_P99_MS = 100.0
TARGET_STATEMENTS = 12
TARGET_RATIO = 0.5
SWEEP_503_SHARE = 0.01  # 503s (with Retry-After) allowed at any level of the sweep
BURST_SECONDS = 5.0


# --- the database --------------------------------------------------------------------------


def sku_names(count: int) -> list[str]:
    return [f"BENCH-{i:04d}" for i in range(count)]


# ``--fraud``: one rule of every kind on the channel (velocity included), with a retailer's
# figures: some fire (the benchmark's customers share four addresses), but all together
# never reach the threshold. And what a shop that screens sends with each order (a billing
# country, a card token), added to every body.
FRAUD_THRESHOLD = 1000
FRAUD_RULES: list[dict[str, Any]] = [
    {"kind": "amount_over", "points": 10, "amount": 1_000_000},
    {"kind": "new_customer_amount_over", "points": 10, "amount": 500_000},
    {"kind": "countries_differ", "points": 10},
    {"kind": "velocity_email", "points": 10, "at_least": 3, "minutes": 10},
    {"kind": "velocity_phone", "points": 10, "at_least": 3, "minutes": 10},
    {"kind": "velocity_address", "points": 10, "at_least": 5, "minutes": 60},
    {"kind": "watched_postcode", "points": 10, "values": "97100, 98*"},
    {"kind": "watched_email_domain", "points": 10, "values": "mailinator.com"},
    {"kind": "many_cards", "points": 10, "at_least": 3, "minutes": 1440},
]
BODY_EXTRAS: dict[str, Any] = {}  # set once by ``run`` for --fraud
PAYMENTS: list[bool] = []  # holds True with --payments (set once by ``run``)
# The rules that read nothing but the order (--fraud=order).
ORDER_ONLY = {"amount_over", "countries_differ", "watched_postcode", "watched_email_domain"}


def fraud_rules(which: str) -> list[dict[str, Any]]:
    """The rules of ``--fraud``: every kind ("all"), or those that read no history."""
    return [rule for rule in FRAUD_RULES if which == "all" or rule["kind"] in ORDER_ONLY]


async def prepare(settings: Any, skus: Sequence[str], scarce_units: int,
                  capacity: int | None, *, fraud: str | None = None) -> str:
    """Migrate, configure, load the catalog and its stock; return the channel's API key.
    ``capacity``: every location's daily order capacity, as a retailer sets them (routing
    then counts each location's orders of the day at every capture); None: unlimited.
    ``fraud``: the channel screens its orders (``fraud_rules(fraud)``, ``FRAUD_THRESHOLD``)."""
    from _baseline_app import metadata as baseline_metadata
    from sqlalchemy.ext.asyncio import AsyncEngine

    from comptoir.auth.service import create_api_key
    from comptoir.catalog.models import Product, Variant
    from comptoir.config import service as config
    from comptoir.config.models import Location, SalesChannel, ShippingRate, TaxRate
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import migrate, piccolo_bound_to
    from comptoir.inventory import service as inventory

    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo's migration chatter
        await migrate(settings)
    with piccolo_bound_to(settings):
        for code, name, lat, lon in WAREHOUSES:
            await Location(code=code, name=name, kind="warehouse", city=name.split()[-1],
                           latitude=lat, longitude=lon, ships=True, serves_pickups=False,
                           daily_order_capacity=capacity).save()
        code, name, lat, lon = STORE
        await Location(code=code, name=name, kind="store", city="Lyon", latitude=lat,
                       longitude=lon, ships=True, serves_pickups=True,
                       daily_order_capacity=capacity).save()
        web = SalesChannel(code="web", name="Boutique en ligne", kind="web", currency="EUR",
                           prices_include_tax=True,
                           fraud_threshold=FRAUD_THRESHOLD if fraud else None)
        await web.save()
        if fraud:
            from comptoir.config.models import FraudRule

            for rule in fraud_rules(fraud):
                await FraudRule(channel=web.id, **rule).save()
        await ShippingRate(channel=web.id, method="ship", fee=490, free_from=5000).save()
        await ShippingRate(channel=web.id, method="pickup", fee=0).save()
        await TaxRate(country="FR", rate_bp=2000, name="TVA").save()
        config.invalidate()

        engine: AsyncEngine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                rnd = random.Random(1)
                for sku in [*skus, SCARCE]:
                    product = Product(name=f"Produit {sku}", search_name=f"produit {sku.lower()}")
                    product.variants = [Variant(sku=sku, name=f"Produit {sku}", options={},
                                                price=rnd.choice([990, 1490, 1999, 2990, 4990]),
                                                currency="EUR", weight_g=300)]
                    session.add(product)
                await session.flush()
                for sku in skus:
                    for location in (WAREHOUSES[0][0], WAREHOUSES[1][0], STORE[0]):
                        await inventory.adjust(session, sku=sku, location=location,
                                               delta=PLENTY, reason="opening stock",
                                               actor="bench", kind="receipt")
                # The scarce SKU's K units are split over both warehouses: two levels to race on.
                paris = scarce_units - scarce_units // 2
                for location, units in ((WAREHOUSES[0][0], paris),
                                        (WAREHOUSES[1][0], scarce_units // 2)):
                    if units:
                        await inventory.adjust(session, sku=SCARCE, location=location,
                                               delta=units, reason="opening stock",
                                               actor="bench", kind="receipt")
                _row, key = await create_api_key(session, name="bench web shop", role="channel",
                                                 channel="web")
            async with engine.begin() as conn:
                await conn.run_sync(baseline_metadata.create_all)
        finally:
            await engine.dispose()
    return key


# --- request bodies ------------------------------------------------------------------------


def order_body(rnd: random.Random, ref: str, lines: list[tuple[str, int]], *,
               returning_customers: int, pickup: bool) -> dict[str, Any]:
    if rnd.random() < 0.6:
        n = rnd.randrange(returning_customers)
        email = f"client{n}@example.fr"
    else:
        n = rnd.randrange(1 << 30)
        email = f"new-{ref.lower()}@example.fr"
    name = f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n // 16) % len(LAST_NAMES)]}"
    line1, postal_code, city = ADDRESSES[n % len(ADDRESSES)]
    delivery: dict[str, Any] = (
        {"method": "pickup", "location": STORE[0]} if pickup else
        {"method": "ship", "address": {"name": name, "line1": line1, "postal_code": postal_code,
                                       "city": city, "country": "FR"}})
    body = {"external_ref": ref, "currency": "EUR",
            "customer": {"email": email, "name": name, "phone": f"+336{n % 100000000:08d}"},
            "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
            "delivery": delivery}
    if BODY_EXTRAS:
        body.update(BODY_EXTRAS)
    if PAYMENTS:
        # The card is authorized for the order's total (the sandbox, through the outbox).
        body["payment"] = {"provider": "sandbox", "token": f"tok_{n % 5000}",
                           "amount": 10_000_000}
    return body


def capture_requests(tag: str, count: int, key: str, skus: Sequence[str], *, mixed: bool,
                     path: str = "/api/orders", seed: int = 0) -> list[Request]:
    """``count`` capture requests: one line each, or 1-4 lines with 20 % pickups (mixed)."""
    rnd = random.Random(f"{tag}-{seed}")
    requests = []
    for i in range(count):
        ref = f"BENCH-{tag}-{i:07d}"
        if mixed:
            lines = [(sku, rnd.randint(1, 3)) for sku in rnd.sample(skus, rnd.choice(
                [1, 1, 1, 2, 2, 3, 4]))]
            pickup = rnd.random() < 0.2
        else:
            lines, pickup = [(rnd.choice(skus), rnd.choice([1, 1, 1, 2]))], False
        body = order_body(rnd, ref, lines, returning_customers=2000, pickup=pickup)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if i % 2 == 0:
            headers["Idempotency-Key"] = f"idem-{ref}"
        requests.append(Request("POST", path, headers, json.dumps(body).encode()))
    return requests


def for_baseline(requests: Sequence[Request]) -> list[Request]:
    return [Request(r.method, "/orders", r.headers, r.body) for r in requests]


# --- SQL statements per capture ------------------------------------------------------------


async def count_statements(settings: Any, key: str, skus: Sequence[str]) -> list[dict[str, Any]]:
    """Capture a few one-line orders in this process and count what reaches the database."""
    from litestar.testing import AsyncTestClient
    from sqlalchemy import event

    from comptoir.app import create_app
    from comptoir.config import service as config
    from comptoir.db.engine import batch_engine

    config.invalidate()
    app = create_app(settings, run_dispatcher=False)
    engine = app.state.engine.sync_engine
    shared = batch_engine(app.state.engine).sync_engine  # the statements captures share
    seen: list[str] = []
    other = {"begin": 0, "commit": 0, "rollback": 0, "checkout": 0}

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(" ".join(sql.split()))

    def counter(name: str) -> Any:
        def count(conn: Any = None, *_args: Any) -> None:
            # An autocommit connection sends no BEGIN or COMMIT, whatever SQLAlchemy's events.
            options = conn.get_execution_options() if hasattr(conn, "get_execution_options") \
                else {}
            if options.get("isolation_level") != "AUTOCOMMIT":
                other[name] += 1
        return count

    for counted in {engine, shared}:
        event.listen(counted, "before_cursor_execute", statement)
        for name in ("begin", "commit", "rollback"):
            event.listen(counted, name, counter(name))
    if getattr(engine.pool, "_pre_ping", False):
        event.listen(engine.pool, "checkout", counter("checkout"))
    headers = {"Authorization": f"Bearer {key}"}
    rnd = random.Random(5)
    cases = [("warm-up", {}, False), ("warm-up", {}, False), ("warm-up", {}, True),
             ("new customer", {}, False), ("returning customer", {}, False),
             ("new customer, Idempotency-Key", {"Idempotency-Key": "count-key-1"}, False)]
    results = []
    async with AsyncTestClient(app=app) as client:
        for i, (label, extra, returning) in enumerate(cases):
            body = order_body(rnd, f"COUNT-{i}", [(skus[i], 1)], returning_customers=2000,
                              pickup=False)
            body["customer"]["email"] = ("client1@example.fr" if label.startswith("returning")
                                         or returning else f"count-{i}@example.fr")
            if label.startswith("returning"):
                body["customer"].update(name="Louise Martin", phone="+33600000001")
            seen.clear()
            other.update(dict.fromkeys(other, 0))
            response = await client.post("/api/orders", json=body, headers={**headers, **extra})
            if response.status_code != 201:
                raise SystemExit(f"in-process capture refused: {response.status_code} "
                                 f"{response.text}")
            if label != "warm-up":
                results.append({"label": label, "statements": list(seen), **other})
    return results


# --- checks --------------------------------------------------------------------------------


async def database_counters(scratch: Scratch) -> dict[str, int] | None:
    """pg_stat_database counters of the benchmark database (PostgreSQL only)."""
    if not scratch.is_postgres:
        return None
    import asyncpg

    await asyncio.sleep(1.5)  # backends report their counters when idle, at most every second
    conn = await asyncpg.connect(scratch.url)
    try:
        row = await conn.fetchrow(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, "
            "tup_fetched, blks_hit + blks_read AS blocks, sessions FROM pg_stat_database "
            "WHERE datname = current_database()")
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


def counters_per_order(before: dict[str, int] | None, after: dict[str, int] | None,
                       orders: int) -> str:
    if before is None or after is None or not orders:
        return ""
    per = {k: (after[k] - before[k]) / orders for k in before}
    return ("pg_stat_database per request: "
            f"{per['xact_commit']:.2f} commits, {per['xact_rollback']:.2f} rollbacks, "
            f"{per['tup_inserted']:.2f} rows inserted, {per['tup_updated']:.2f} updated, "
            f"{per['tup_fetched']:.1f} fetched, {per['blocks']:.0f} buffer reads; "
            f"{after['sessions'] - before['sessions']} new database connections during the run")


class WaitSampler:
    """What the benchmark database's sessions are doing, sampled every 50 ms during a run
    (PostgreSQL's pg_stat_activity): where the captures wait, on average."""

    def __init__(self, scratch: Scratch) -> None:
        self.scratch = scratch
        self.samples = 0
        self.states: dict[str, int] = {}
        self.task: asyncio.Task[None] | None = None
        self.running = False

    async def start(self) -> None:
        if not self.scratch.is_postgres:
            return
        import asyncpg

        self.conn = await asyncpg.connect(self.scratch.url)
        self.running = True
        self.task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while self.running:
            rows = await self.conn.fetch(
                "SELECT state, wait_event_type, wait_event, left(query, 48) AS query "
                "FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
            self.samples += 1
            for r in rows:
                if r["state"] == "idle":
                    continue
                what = r["state"]
                if r["wait_event_type"] == "Lock":
                    what = f"waiting for a {r['wait_event']} lock in {r['query']!r}"
                elif r["wait_event_type"] in ("IO", "LWLock"):
                    what = f"{r['wait_event_type']} {r['wait_event']}"
                elif r["state"] == "active":
                    what = "running a statement"
                elif r["state"] == "idle in transaction":
                    what = "in a transaction, waiting for the app's next statement"
                self.states[what] = self.states.get(what, 0) + 1
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.task is None:
            return
        self.running = False
        await self.task
        await self.conn.close()

    def report(self) -> list[str]:
        if not self.samples:
            return []
        top = sorted(self.states.items(), key=lambda kv: -kv[1])[:5]
        return ["sessions, on average (pg_stat_activity every 50 ms): " + "; ".join(
            f"{n / self.samples:.1f} {what}" for what, n in top)]


async def oversell_check(settings: Any, burst: LoadResult, burst_refs: Sequence[str],
                         scarce_units: int) -> list[tuple[str, bool, str]]:
    """What the database says after the burst: (check, ok, detail) for each check."""
    from sqlalchemy import text

    from comptoir.db.engine import create_engine

    accepted = burst.count(201)
    codes: dict[str, int] = {}
    for status, body in zip(burst.statuses, burst.bodies, strict=True):
        if status != 201:
            try:
                code = json.loads(body).get("code", "?")
            except ValueError:
                code = "not json"
            codes[f"{status} {code}"] = codes.get(f"{status} {code}", 0) + 1
    engine = create_engine(settings)
    checks: list[tuple[str, bool, str]] = []
    try:
        async with engine.connect() as conn:
            over = (await conn.execute(text(
                "SELECT sku, location, on_hand, reserved FROM inventory_levels "
                "WHERE reserved > on_hand OR reserved < 0"))).all()
            levels = (await conn.execute(text("SELECT count(*) FROM inventory_levels"))).scalar()
            checks.append(("reserved <= on_hand at every level", not over,
                           f"{levels} levels, {len(over)} over: {over[:5]}"))
            mismatch = (await conn.execute(text(
                "SELECT l.sku, l.location, l.reserved, coalesce(sum(a.quantity), 0) "
                "FROM inventory_levels l LEFT JOIN order_allocations a "
                "ON a.sku = l.sku AND a.location = l.location "
                "GROUP BY l.sku, l.location, l.reserved "
                "HAVING l.reserved <> coalesce(sum(a.quantity), 0)"))).all()
            checks.append(("reserved == sum of the orders' allocations at every level",
                           not mismatch, f"{len(mismatch)} levels differ: {mismatch[:5]}"))
            unallocated = (await conn.execute(text(
                "SELECT o.number, l.sku, l.quantity, coalesce(a.q, 0) FROM order_lines l "
                "JOIN orders o ON o.id = l.order_id LEFT JOIN (SELECT line_id, sum(quantity) "
                "AS q FROM order_allocations GROUP BY line_id) a ON a.line_id = l.id "
                "WHERE coalesce(a.q, 0) <> l.quantity"))).all()
            lines = (await conn.execute(text("SELECT count(*) FROM order_lines"))).scalar()
            checks.append(("every order line is allocated in full", not unallocated,
                           f"{lines} lines, {len(unallocated)} not: {unallocated[:5]}"))
            sold = (await conn.execute(text(
                "SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE sku = :sku"),
                {"sku": SCARCE})).scalar()
            reserved = (await conn.execute(text(
                "SELECT coalesce(sum(reserved), 0), coalesce(sum(on_hand), 0) "
                "FROM inventory_levels WHERE sku = :sku"), {"sku": SCARCE})).one()
            checks.append((f"accepted units of {SCARCE} == K ({scarce_units})",
                           sold == scarce_units == accepted == reserved[0],
                           f"{accepted} answers 201, {sold} units on order lines, "
                           f"{reserved[0]} reserved of {reserved[1]} on hand"))
            stored = (await conn.execute(text(
                "SELECT count(*) FROM orders WHERE external_ref LIKE :prefix"),
                {"prefix": burst_refs[0].rsplit("-", 1)[0] + "-%"})).scalar()
            checks.append(("every 201 is one stored order, no refusal left one", stored == accepted,
                           f"{stored} orders stored for the burst"))
            refused_ok = set(codes) <= {"409 out_of_stock"} and not burst.errors
            checks.append(("every other answer is 409 out_of_stock", refused_ok,
                           f"{codes or 'none'}" + (f", errors {burst.errors[:3]}"
                                                   if burst.errors else "")))
    finally:
        await engine.dispose()
    return checks


async def stored_orders(settings: Any, tag: str) -> int:
    from sqlalchemy import text

    from comptoir.db.engine import create_engine

    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(
                "SELECT count(*) FROM orders WHERE external_ref LIKE :p"),
                {"p": f"BENCH-{tag}-%"})).scalar() or 0)
    finally:
        await engine.dispose()


# --- the concurrency sweep -----------------------------------------------------------------


async def sweep(port: int, key: str, skus: Sequence[str], args: argparse.Namespace,
                settings: Any, server_pid: int | None, database: str | None,
                say: Any) -> bool:
    """One-line orders from C simultaneous keep-alive clients, for each C of ``--sweep``:
    throughput, p50/p99, the share of 503s (each must carry Retry-After), any other 5xx or
    transport error; then, from the database, that every 201 is a stored order and no
    refused one was stored."""
    levels = [int(level) for level in args.sweep.split(",") if level.strip()]
    say(f"\nConcurrency sweep: one-line orders from C simultaneous clients "
        f"({args.sweep_orders} orders per level at least, 3 per client)")
    say("  clients   orders/s    p50 ms    p99 ms    max ms   503s (share)   other 5xx   "
        "transport errors   load")
    ok = True
    for level in levels:
        count = max(args.sweep_orders, 3 * level)
        result = await run_load(port, capture_requests(f"sweep{level}", count, key, skus,
                                                       mixed=False),
                                level, client="raw", max_seconds=args.max_seconds,
                                server_pid=server_pid, database=database)
        unavailable = result.count(503)
        other_5xx = sum(1 for status in result.statuses if status >= 500 and status != 503)
        share = unavailable / result.done if result.done else 1.0
        stored = await stored_orders(settings, f"sweep{level}")
        level_ok = (not other_5xx and not result.errors and share < SWEEP_503_SHARE
                    and not result.unavailable_without_retry_after
                    and stored == result.count(201) and result.done == count)
        ok = ok and level_ok
        lat = result.latencies_ms
        say(f"  {verdict(level_ok)} {level:>5}  {result.rate:>9,.0f}  "
            f"{percentile(lat, .5):>8.1f}  {percentile(lat, .99):>8.1f}  "
            f"{max(lat, default=0):>8.1f}   {unavailable:>4} ({share:.2%})   {other_5xx:>9}   "
            f"{len(result.errors):>16}   {os.getloadavg()[0]:.2f}")
        if result.unavailable_without_retry_after:
            say(f"      {result.unavailable_without_retry_after} answers 503 without "
                "Retry-After")
        if stored != result.count(201) or result.done != count:
            say(f"      {stored} orders stored for {result.count(201)} answers 201; "
                f"{result.done} of {count} requests answered")
        if result.errors:
            say(f"      transport errors: {result.errors[:3]}")
    return ok


# --- main ----------------------------------------------------------------------------------


def line(label: str, result: LoadResult) -> str:
    return (f"  {label}: {result.summary()}\n    {result.cpu.describe(result.done)}; "
            f"load average {os.getloadavg()[0]:.2f}")


async def run(args: argparse.Namespace) -> int:
    from comptoir.settings import load_settings

    scratch = Scratch(args.database_url, "comptoir-bench-capture-")
    settings = load_settings(scratch.env())
    env = process_env(scratch.env())
    skus = sku_names(args.skus)
    pg_name = scratch.name if scratch.is_postgres else None
    processes: list[Any] = []
    report: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        report.append(text)

    try:
        await scratch.create()
        where = scratch.name if scratch.is_postgres else scratch.url
        say(f"Order capture benchmark on {scratch.label} ({where})")
        say(f"  load average at start: {loadavg()}")
        say(f"  {args.orders} orders at concurrency {args.concurrency}, {args.workers} uvicorn "
            f"worker(s) per server, client: {args.client}; {args.skus} SKUs, scarce SKU with "
            f"{args.scarce_units} units, burst of {args.burst}; daily capacity of each "
            f"location: {args.capacity or 'none'}")
        started = time.perf_counter()
        key = await prepare(settings, skus, args.scarce_units,
                            None if args.capacity == 0 else args.capacity, fraud=args.fraud)
        if args.fraud:
            BODY_EXTRAS["billing"] = {"country": "FR"}
            say(f"  fraud screening on: {len(fraud_rules(args.fraud))} rules ({args.fraud}), "
                f"threshold {FRAUD_THRESHOLD}; bodies carry a billing country")
        if args.payments:
            PAYMENTS.append(True)
            say("  payments on: each order carries a sandbox card token, authorized by the "
                "server's outbox while the load runs")
        say(f"  setup (migrate, configuration, catalog, stock, API key): "
            f"{time.perf_counter() - started:.1f} s")

        # 1. Statements per capture, in this process.
        counted = await count_statements(settings, key, skus)
        say("\nSQL statements per one-line capture (in-process app, same database; "
            "SQLAlchemy before_cursor_execute):")
        for case in counted:
            if scratch.is_postgres:
                # SQLAlchemy's asyncpg pre-ping is BEGIN, ";" and ROLLBACK: three round trips.
                round_trips = (len(case["statements"]) + case["begin"] + case["commit"]
                               + 3 * case["checkout"])
                extra = f"+ {case['begin']} BEGIN, {case['commit']} COMMIT"
                if case["checkout"]:
                    extra += f", {case['checkout']} pool pre-ping of 3 round trips"
            else:
                round_trips = len(case["statements"]) + case["commit"]
                extra = f"BEGIN IMMEDIATE among them, + {case['commit']} COMMIT"
            say(f"  {case['label']}: {len(case['statements'])} statements ({extra}: "
                f"{round_trips} round trips)")
        worst = max(counted, key=lambda c: len(c["statements"]))
        say(f"  statements of the '{worst['label']}' capture:")
        for sql in worst["statements"]:
            say(f"    - {sql[:150]}")
        statements = max(len(c["statements"]) for c in counted)

        # 2. Both servers, warmed up; then rounds of baseline and Comptoir, one after the
        # other on the same machine, so a change of the machine's speed (a shared VM) weighs
        # on both sides of the ratio.
        base_port = free_port()
        baseline_process = await start_server(
            [sys.executable, str(ROOT / "benchmarks" / "_baseline_app.py"), "--port",
             str(base_port), "--workers", str(args.workers)], env, base_port,
            scratch.tmp / "baseline.log")
        processes.append(baseline_process)
        port = free_port()
        comptoir_process = await start_server(
            [sys.executable, "-m", "comptoir", "serve", "--no-migrate", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(args.workers)], env, port,
            scratch.tmp / "comptoir.log")
        processes.append(comptoir_process)
        await run_load(base_port, for_baseline(capture_requests("warmb", args.warmup, key, skus,
                                                                mixed=False)),
                       args.concurrency, client=args.client)
        warmup = await run_load(port, capture_requests("warmc", args.warmup, key, skus,
                                                       mixed=False),
                                args.concurrency, client=args.client)
        if warmup.count(201) != warmup.done:
            say(f"  warm-up answers were not all 201: {warmup.summary()}")
        if not (args.quick or args.sweep_only):
            say("\nLoad generator check (baseline)")
            probe = min(3000, args.orders)
            for client in ("httpx", "raw"):
                probe_result = await run_load(
                    base_port, for_baseline(capture_requests(f"probe{client}", probe, key, skus,
                                                             mixed=False)),
                    args.concurrency, client=client, server_pid=baseline_process.pid,
                    database=pg_name)
                say(line(f"{client:5}", probe_result))

        baselines: list[LoadResult] = []
        comptoirs: list[LoadResult] = []
        rounds = 0 if args.sweep_only else args.rounds
        for round_ in range(1, rounds + 1):
            say(f"\nRound {round_} of {args.rounds}: {args.orders} one-line orders to each")
            before = await database_counters(scratch)
            baseline = await run_load(
                base_port, for_baseline(capture_requests(f"base{round_}", args.orders, key, skus,
                                                         mixed=False)),
                args.concurrency, client=args.client, max_seconds=args.max_seconds,
                server_pid=baseline_process.pid, database=pg_name)
            after = await database_counters(scratch)
            baselines.append(baseline)
            say(line(f"baseline (minimal Litestar app, one INSERT per request, "
                     f"{args.workers} workers)", baseline))
            if round_ == 1 and (per := counters_per_order(before, after, baseline.done)):
                say(f"    {per}")
            before = await database_counters(scratch)
            waits = WaitSampler(scratch)
            if round_ == 1:
                await waits.start()
            comptoir = await run_load(
                port, capture_requests(f"one{round_}", args.orders, key, skus, mixed=False),
                args.concurrency, client=args.client, max_seconds=args.max_seconds,
                server_pid=comptoir_process.pid, database=pg_name)
            await waits.stop()
            after = await database_counters(scratch)
            comptoirs.append(comptoir)
            say(line(f"Comptoir POST /api/orders ({args.workers} workers)", comptoir))
            if round_ == 1:
                if (per := counters_per_order(before, after, comptoir.done)):
                    say(f"    {per}")
                for text in waits.report():
                    say(f"    {text}")
            say(f"    ratio this round: {comptoir.rate / baseline.rate:.2f}")
        await stop_server(baseline_process)
        processes.remove(baseline_process)
        stored = 0
        for round_ in range(1, rounds + 1):
            stored += await stored_orders(settings, f"one{round_}")
        answered = sum(c.count(201) for c in comptoirs)
        sent = sum(c.done for c in comptoirs)
        lost_ok = stored == answered == sent
        say(f"  {stored} orders stored for {answered} answers 201 ({sent} sent): "
            f"{verdict(lost_ok)}")
        mixed = None
        if not (args.quick or args.sweep_only):
            mixed = await run_load(
                port, capture_requests("mix", args.orders, key, skus, mixed=True),
                args.concurrency, client=args.client, max_seconds=args.max_seconds,
                server_pid=comptoir_process.pid, database=pg_name)
            say("\nMixed orders (1-4 lines, 20 % pickups), Comptoir only")
            say(line("mixed orders", mixed))

        # 3b. The sweep: simultaneous clients as a sale brings them.
        sweep_ok = True
        if args.sweep:
            sweep_ok = await sweep(port, key, skus, args, settings, comptoir_process.pid,
                                   pg_name, say)

        # 4. The oversell burst.
        rnd = random.Random(9)
        burst_requests, burst_refs = [], []
        for i in range(args.burst):
            ref = f"BENCH-burst-{i:07d}"
            lines = [(SCARCE, 1)] + ([(rnd.choice(skus), 1)] if i % 2 else [])
            body = order_body(rnd, ref, lines, returning_customers=2000, pickup=False)
            burst_requests.append(Request("POST", "/api/orders", {
                "Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                json.dumps(body).encode()))
            burst_refs.append(ref)
        burst = await run_load(port, burst_requests, args.burst, client="raw", keep_bodies=True,
                               max_seconds=args.max_seconds, server_pid=comptoir_process.pid,
                               database=pg_name)
        await stop_server(comptoir_process)
        processes.remove(comptoir_process)
        say(f"\nOversell burst: {args.burst} concurrent orders for {SCARCE} "
            f"({args.scarce_units} units over 2 warehouses; every other order has a second, "
            "plentiful line)")
        say(f"  {burst.summary()}")
        burst_5xx = sum(1 for status in burst.statuses if status >= 500)
        burst_ok = (burst.wall_s < BURST_SECONDS and not burst_5xx and not burst.errors)
        say(f"  {verdict(burst_ok)}  answered in {burst.wall_s:.2f} s (target < "
            f"{BURST_SECONDS:.0f} s), {burst_5xx} answers 5xx, "
            f"{len(burst.errors)} transport errors")
        checks = await oversell_check(settings, burst, burst_refs, args.scarce_units)
        for label, ok, detail in checks:
            say(f"  {verdict(ok)}  {label}: {detail}")
        oversell_ok = all(ok for _label, ok, _detail in checks)

        # 5. Summary.
        if not comptoirs:
            say(f"\nSummary ({scratch.label}, {args.workers} workers; sweep only)")
            say(f"  load average now: {loadavg()}")
            say(f"  {verdict(sweep_ok)}  sweep: no 500, 503s with Retry-After under "
                f"{SWEEP_503_SHARE:.0%} at every level, every 201 stored")
            say(f"  {verdict(burst_ok)}  burst of {args.burst} answered in "
                f"{burst.wall_s:.2f} s without 5xx")
            say(f"  {verdict(oversell_ok)}  nothing oversold")
            return 0 if (oversell_ok and sweep_ok and burst_ok) else 1
        # The median round of each side; every round is printed above.
        comptoir = sorted(comptoirs, key=lambda r: r.rate)[len(comptoirs) // 2]
        baseline = sorted(baselines, key=lambda r: r.rate)[len(baselines) // 2]
        p99 = statistics.median(percentile(c.latencies_ms, 0.99) for c in comptoirs)
        ratio = comptoir.rate / baseline.rate if baseline.rate else 0.0
        note = "" if scratch.is_postgres else "  (the targets are set for PostgreSQL)"
        at = "" if args.concurrency == 32 else f" (measured at {args.concurrency}, target at 32)"
        say(f"\nSummary ({scratch.label}, {args.workers} workers, concurrency "
            f"{args.concurrency}, client {args.client}){note}")
        say(f"  load average now: {loadavg()}")
        if args.rounds > 1:
            say(f"  (medians of {args.rounds} rounds: orders/s, p99 and each side of the ratio)")
        say(f"  {verdict(comptoir.rate >= TARGET_RATE)}  orders/s: {comptoir.rate:,.0f} "
            f"(target >= {TARGET_RATE:,.0f}, goal {GOAL_RATE:,.0f}: "
            f"{'reached' if comptoir.rate >= GOAL_RATE else 'not reached'})")
        worst = max(percentile(c.latencies_ms, 0.99) for c in comptoirs)
        say(f"  {verdict(p99 <= TARGET_P99_MS)}  p99: {p99:.1f} ms (worst round {worst:.1f}; "
            f"p50 {percentile(comptoir.latencies_ms, .5):.1f}, p95 "
            f"{percentile(comptoir.latencies_ms, .95):.1f}; target <= {TARGET_P99_MS:.0f} ms){at}")
        say(f"  {verdict(statements <= TARGET_STATEMENTS)}  SQL statements per one-line "
            f"capture: {statements} at most (target <= {TARGET_STATEMENTS})")
        say(f"  {verdict(ratio >= TARGET_RATIO)}  ratio to the baseline: {ratio:.2f} "
            f"({comptoir.rate:,.0f} / {baseline.rate:,.0f} per s; target >= {TARGET_RATIO})")
        say(f"  {verdict(lost_ok)}  every answered order stored, every request answered 201")
        say(f"  {verdict(oversell_ok)}  nothing oversold")
        say(f"  {verdict(burst_ok)}  burst of {args.burst} answered in "
            f"{burst.wall_s:.2f} s without 5xx")
        if args.sweep:
            say(f"  {verdict(sweep_ok)}  sweep: no 500, 503s with Retry-After under "
                f"{SWEEP_503_SHARE:.0%} at every level, every 201 stored")
        if mixed is not None:
            say(f"  (mixed orders: {mixed.rate:,.0f}/s, p99 "
                f"{percentile(mixed.latencies_ms, .99):.1f} ms; no target)")
        return 0 if (oversell_ok and sweep_ok and burst_ok) else 1
    finally:
        for process in processes:
            await stop_server(process)
        await scratch.drop(keep=args.keep)
        if args.keep:
            print(f"kept: {scratch.url}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL server on 127.0.0.1 (a fresh database is made on it "
                             "and dropped after); SQLite in a temporary directory when absent")
    parser.add_argument("--orders", type=int, default=None,
                        help="orders per measured run (default 6000; 1000 with --quick)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=None,
                        help="uvicorn worker processes per server (default: 2 on PostgreSQL, "
                             "one per core; 1 on SQLite, whose writers take turns anyway)")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="load generator: a bare asyncio HTTP/1.1 client, or httpx")
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--scarce-units", type=int, default=25)
    parser.add_argument("--burst", type=int, default=None,
                        help="concurrent orders for the scarce SKU (default 200; 100 with --quick)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="unmeasured orders per server first (default 400; 200 with --quick)")
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="a measured run stops after this long, whatever its count")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of baseline then Comptoir (default 3; 1 with --quick); "
                             "the targets are judged on the median round")
    parser.add_argument("--quick", action="store_true",
                        help="fewer orders; no load-generator check, no mixed run")
    parser.add_argument("--sweep", default="",
                        help="concurrency levels of the sweep, e.g. 32,128,512,1000 "
                             "(default: no sweep)")
    parser.add_argument("--sweep-orders", type=int, default=3000,
                        help="orders per level of the sweep, at least 3 per client")
    parser.add_argument("--sweep-only", action="store_true",
                        help="no rounds against the baseline, no mixed run: the sweep and "
                             "the burst")
    parser.add_argument("--capacity", type=int, default=10_000_000,
                        help="daily order capacity of every location, never reached "
                             "(0: none; the demo retailer sets one everywhere)")
    parser.add_argument("--fraud", nargs="?", const="all", choices=["all", "order"],
                        default=None,
                        help="screen orders for fraud: one rule of every kind (velocity "
                             "included) on the channel, a threshold its orders do not reach; "
                             "--fraud=order: only the rules that look at the order alone "
                             "(no history read)")
    parser.add_argument("--payments", action="store_true",
                        help="each order carries a card token (the many-cards fraud rule counts "
                             "them), which the server's outbox authorizes at the sandbox")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    args.orders = args.orders or (1000 if args.quick else 6000)
    args.burst = args.burst or (100 if args.quick else 200)
    args.warmup = args.warmup or (200 if args.quick else 400)
    args.workers = args.workers or (2 if args.database_url else 1)
    args.rounds = args.rounds or (1 if args.quick else 3)
    if args.burst <= args.scarce_units:
        parser.error("--burst must be larger than --scarce-units for the race to mean anything")
    return args


def main() -> int:
    return run_fast(run(arguments()))


if __name__ == "__main__":
    raise SystemExit(main())
