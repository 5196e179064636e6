"""A location's queue at any backlog: a warehouse with 20,000 orders waiting against a store
with 20, in PostgreSQL, pages timed through HTTP.

    .venv/bin/python benchmarks/fulfillment_queue.py --database-url postgresql://postgres@127.0.0.1:5432/test
    options: --waiting N (default 20,000) --store-waiting N (20) --history N (30,000)
             --samples S (30) --keep

On a new database ``comptoir_bench_<random>`` (dropped at the end) it:

1. migrates and configures the world of ``order_list.py`` (4 warehouses, 30 stores, 2,000
   SKUs, a manager's API key);
2. copies straight into the order and fulfillment tables: ``--waiting`` confirmed orders
   allocated at WH-PARIS and ``--store-waiting`` pickups at ST-PARIS-01, as a sale leaves
   them (no fulfillment made yet; 1-3 lines; some stamped at the same moment, as a batched
   capture does), and ``--history`` orders of the two months before, shipped from WH-PARIS
   or handed over at ST-PARIS-01 with their fulfillments; then ``VACUUM ANALYZE``;
3. serves Comptoir (``python -m comptoir serve``, one worker) and times, one request at a
   time over a keep-alive connection, ``GET /api/fulfillments`` pages of both locations:
   the store screen's read (``status=new&limit=100``), the issue's (``limit=5``, every
   status: history first), a later page (a cursor deep into the queue) and a manager's
   every-location page (``limit=50``). Each kind is timed "cold" (the backlog never read:
   before each sample the work the reads made is deleted, untimed, so the read makes its
   page's fulfillments and pick lists) and "warm" (the same page read again);
4. prints p50/p95/max per kind, PASS/FAIL against p95 <= 100 ms for the warehouse, and
   the ratio of the warehouse's p95 to the store's for the same kind of page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    HttpConnection,
    Scratch,
    free_port,
    loadavg,
    percentile,
    process_env,
    run_fast,
    start_server,
    stop_server,
    verdict,
)
from order_list import ALLOCATION_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS, prepare, uuid7_at

TARGET_P95_MS = 100.0
WAREHOUSE, STORE = "WH-PARIS", "ST-PARIS-01"
FULFILLMENT_COLUMNS = ["id", "order_id", "order_number", "location", "kind", "status",
                       "ready_at", "handed_over_at", "handed_over_by", "created_at",
                       "updated_at"]
FULFILLMENT_LINE_COLUMNS = ["id", "fulfillment_id", "line_id", "sku", "name", "quantity",
                            "shipped_quantity", "rejected_quantity"]
SHIPMENT_COLUMNS = ["id", "fulfillment_id", "carrier", "service", "tracking_number",
                    "tracking_url", "lines", "shipped_by", "shipped_at"]
LATER_PAGE = 50  # the later page: after 49 pages of 100 rows


# --- the orders ------------------------------------------------------------------------------


@dataclass
class Rows:
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    allocations: list[tuple[Any, ...]] = field(default_factory=list)
    fulfillments: list[tuple[Any, ...]] = field(default_factory=list)
    fulfillment_lines: list[tuple[Any, ...]] = field(default_factory=list)
    shipments: list[tuple[Any, ...]] = field(default_factory=list)


class Orders:
    """Orders as rows for ``copy_records_to_table``: waiting ones and history."""

    def __init__(self, skus: list[tuple[str, str, int]], seed: int = 2026) -> None:
        self.skus = skus
        self.rnd = random.Random(seed)
        self.serial = 0
        self.rows = Rows()

    def add(self, created: dt.datetime, location: str, *, pickup: bool, done: bool) -> None:
        """One order allocated at ``location``: waiting (confirmed, nothing made yet) or,
        ``done``, shipped or handed over, its allocations emptied, its fulfillment there."""
        rnd, rows = self.rnd, self.rows
        self.serial += 1
        number = f"CMP-{created.year}-{self.serial:06d}"
        ms = int(created.timestamp() * 1000)
        order_id = uuid7_at(ms, rnd)
        status = ("completed" if pickup else "shipped") if done else "confirmed"
        goods = 0
        sent = []
        picked = rnd.sample(self.skus, 1 if rnd.random() < .7 else rnd.randint(2, 3))
        fulfillment_id = uuid7_at(ms, rnd)
        for position, (sku, name, price) in enumerate(picked, start=1):
            quantity = 1 if rnd.random() < .85 else 2
            line_id = uuid7_at(ms, rnd)
            goods += price * quantity
            net = round(price * quantity / 1.2)
            rows.lines.append((line_id, order_id, position, sku, name, quantity, 0, price, 2000,
                               net, price * quantity - net, price * quantity))
            rows.allocations.append((uuid7_at(ms, rnd), order_id, line_id, sku, location,
                                     0 if done else quantity, created))
            sent.append({"sku": sku, "quantity": quantity})
            if done:
                rows.fulfillment_lines.append((uuid7_at(ms, rnd), fulfillment_id, line_id, sku,
                                               name, 0, quantity, 0))
        if done:
            finished = created + dt.timedelta(hours=rnd.randint(2, 48))
            rows.fulfillments.append((
                fulfillment_id, order_id, number, location, "pickup" if pickup else "ship",
                "handed_over" if pickup else "shipped", finished if pickup else None,
                finished if pickup else None, "staff:associate" if pickup else None, created,
                finished))
            if not pickup:
                rows.shipments.append((uuid7_at(ms, rnd), fulfillment_id, "colissimo", "standard",
                                       f"6A{self.serial:011d}", None, json.dumps(sent),
                                       "staff:associate", finished))
        ship_to = None if pickup else json.dumps({
            "name": "Camille Martin", "line1": f"{rnd.randint(1, 120)} rue Victor Hugo",
            "line2": "", "postal_code": "75011", "city": "Paris", "country": "FR"})
        email = f"client{self.serial}@example.fr"
        total = goods
        rows.orders.append((
            order_id, number, "web", f"SHOP-{self.serial}", status, None, None, None, 2 if done
            else 1, "EUR", True, 2000, None, email, f"Client {self.serial}", None,
            "pickup" if pickup else "ship", location if pickup else None, ship_to, None, goods,
            0, 0, total - round(total / 1.2), total, uuid.uuid4().hex + uuid.uuid4().hex[:11],
            f"{number.lower()} shop-{self.serial} {email}", "key:web integration", created,
            created))


def make_orders(skus: list[tuple[str, str, int]], waiting: int, store_waiting: int,
                history: int, now: dt.datetime) -> Rows:
    """History over the two months before ``now``, then the waiting orders over the last six
    hours; one waiting order in ten shares its moment with the one before (a batch)."""
    orders = Orders(skus)
    rnd = orders.rnd
    start = now - dt.timedelta(days=60)
    for moment in sorted(start + dt.timedelta(seconds=rnd.uniform(0, 59 * 86400))
                         for _ in range(history)):
        at_store = rnd.random() < 0.2
        orders.add(moment, STORE if at_store else WAREHOUSE, pickup=at_store, done=True)
    sale = now - dt.timedelta(hours=6)
    moments = sorted(sale + dt.timedelta(seconds=rnd.uniform(0, 6 * 3600 - 60))
                     for _ in range(waiting + store_waiting))
    for n in range(1, len(moments)):
        if rnd.random() < 0.1:
            moments[n] = moments[n - 1]
    store_turns = set(rnd.sample(range(len(moments)), store_waiting))
    for n, moment in enumerate(moments):
        at_store = n in store_turns
        orders.add(moment.replace(microsecond=moment.microsecond // 1000 * 1000),
                   STORE if at_store else WAREHOUSE, pickup=at_store, done=False)
    return orders.rows


async def load(scratch: Scratch, rows: Rows, say: Any) -> None:
    import asyncpg

    conn = await asyncpg.connect(scratch.url)
    try:
        started = time.perf_counter()
        await conn.copy_records_to_table("orders", records=rows.orders, columns=ORDER_COLUMNS)
        await conn.copy_records_to_table("order_lines", records=rows.lines, columns=LINE_COLUMNS)
        await conn.copy_records_to_table("order_allocations", records=rows.allocations,
                                         columns=ALLOCATION_COLUMNS)
        await conn.copy_records_to_table("fulfillments", records=rows.fulfillments,
                                         columns=FULFILLMENT_COLUMNS)
        await conn.copy_records_to_table("fulfillment_lines", records=rows.fulfillment_lines,
                                         columns=FULFILLMENT_LINE_COLUMNS)
        await conn.copy_records_to_table("shipments", records=rows.shipments,
                                         columns=SHIPMENT_COLUMNS)
        for table in ("orders", "order_lines", "order_allocations", "fulfillments",
                      "fulfillment_lines", "shipments"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        say(f"  copied {len(rows.orders):,} orders ({len(rows.fulfillments):,} with their "
            f"fulfillment), {len(rows.lines):,} lines; VACUUM ANALYZE; "
            f"{time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()


# --- timing --------------------------------------------------------------------------------


@dataclass
class Kind:
    """One kind of page: the same request timed ``samples`` times, cold or warm."""

    name: str
    location: str | None
    params: dict[str, str]
    cold: bool
    latencies: list[float] = field(default_factory=list)
    items: int = 0

    @property
    def p95(self) -> float:
        return percentile(self.latencies, .95)


class Bench:
    def __init__(self, scratch: Scratch, port: int, key: str) -> None:
        self.scratch, self.port = scratch, port
        self.headers = f"Authorization: Bearer {key}\r\n".encode()
        self.conn = HttpConnection("127.0.0.1", port)
        self.db: Any = None

    async def open(self) -> None:
        import asyncpg

        self.db = await asyncpg.connect(self.scratch.url)

    async def close(self) -> None:
        self.conn.close()
        if self.db is not None:
            await self.db.close()

    async def get(self, params: dict[str, str]) -> tuple[float, dict[str, Any]]:
        path = "/api/fulfillments?" + urllib.parse.urlencode(params)
        started = time.perf_counter()
        status, body = await self.conn.request("GET", path, self.headers)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise SystemExit(f"{path}: {status} {body[:300]!r}")
        return elapsed, json.loads(body)

    async def forget_made_work(self, since: dt.datetime | None = None) -> None:
        """Delete the fulfillments reads made (not started: status new), those of orders
        from ``since`` on only if given; untimed, so the next read makes them again."""
        made = "status = 'new'" + (" AND created_at >= $1" if since else "")
        args = (since,) if since else ()
        await self.db.execute("DELETE FROM fulfillment_lines WHERE fulfillment_id IN "
                              f"(SELECT id FROM fulfillments WHERE {made})", *args)
        await self.db.execute(f"DELETE FROM fulfillments WHERE {made}", *args)
        await self.db.execute("VACUUM fulfillments, fulfillment_lines")

    async def cursor_at_page(self, location: str, page: int) -> tuple[str, dt.datetime]:
        """The cursor of page ``page`` of 100 rows of the location's work to pick, and the
        order time it starts after (reads up to it make the pages before)."""
        cursor = None
        for _ in range(page - 1):
            _, answer = await self.get({"location": location, "status": "new", "limit": "100",
                                        **({"cursor": cursor} if cursor else {})})
            cursor = answer["next_cursor"]
            if cursor is None:
                raise SystemExit(f"{location} has fewer than {page} pages")
        assert cursor is not None
        at = dt.datetime.fromisoformat(answer["items"][-1]["created_at"])
        return cursor, at

    async def time_kind(self, kind: Kind, samples: int,
                        forget_since: dt.datetime | None = None) -> None:
        for _ in range(samples):
            if kind.cold:
                await self.forget_made_work(forget_since)
            elapsed, answer = await self.get(kind.params)
            kind.latencies.append(elapsed)
            kind.items = len(answer["items"])


def page_kinds(location: str | None, cursor: str | None) -> list[tuple[str, dict[str, str]]]:
    where = {"location": location} if location else {}
    kinds = [("first page, status=new&limit=100 (store screen)",
              {**where, "status": "new", "limit": "100"}),
             ("first page, status=new&limit=20 (the store's 20)",
              {**where, "status": "new", "limit": "20"}),
             ("first page, limit=5 (every status)", {**where, "limit": "5"})]
    if cursor is not None:
        kinds.append((f"page {LATER_PAGE}, status=new&limit=100",
                      {**where, "status": "new", "limit": "100", "cursor": cursor}))
    return kinds


# --- main ----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    from comptoir.settings import load_settings

    scratch = Scratch(args.database_url, "comptoir-bench-queue-")
    settings = load_settings(scratch.env())
    process = None
    bench: Bench | None = None

    def say(text: str = "") -> None:
        print(text, flush=True)

    try:
        await scratch.create()
        say(f"Fulfillment queue benchmark on PostgreSQL ({scratch.name}): {args.waiting:,} "
            f"orders waiting at {WAREHOUSE}, {args.store_waiting:,} at {STORE}, "
            f"{args.history:,} done before")
        say(f"  load average at start: {loadavg()}")
        started = time.perf_counter()
        key, skus = await prepare(settings)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        rows = make_orders(skus, args.waiting, args.store_waiting, args.history, now)
        say(f"  setup (migrate, configuration, catalog, rows made): "
            f"{time.perf_counter() - started:.1f} s")
        await load(scratch, rows, say)

        port = free_port()
        process = await start_server(
            [sys.executable, "-m", "comptoir", "serve", "--no-migrate", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            process_env(scratch.env()), port, scratch.tmp / "server.log")
        bench = Bench(scratch, port, key)
        await bench.open()
        # Warm-up: the process's first requests (imports, pools, prepared statements).
        for params in ({"location": "WH-LYON", "status": "new", "limit": "100"},
                       {"location": "ST-LYON-01", "limit": "5"}):
            for _ in range(10):
                await bench.get(params)

        say(f"\nTiming {args.samples} requests of each kind, one at a time "
            f"(load average {loadavg()}):")
        started = time.perf_counter()
        cursor, after = await bench.cursor_at_page(WAREHOUSE, LATER_PAGE)
        kinds: list[Kind] = []
        for location, deep in ((WAREHOUSE, cursor), (STORE, None), (None, None)):
            for name, params in page_kinds(location, deep):
                if location is None and params["limit"] != "100":
                    if params["limit"] == "20":
                        continue
                    name, params = "first page, limit=50 (every status)", {"limit": "50"}
                for cold in (True, False):
                    kind = Kind(name, location, params, cold)
                    await bench.time_kind(kind, args.samples,
                                          forget_since=after if "cursor" in params else None)
                    kinds.append(kind)
        say(f"  done in {time.perf_counter() - started:.1f} s; load average now {loadavg()}")

        width = max(len(k.name) for k in kinds) + 6
        say(f"\n{'location':12} {'page':{width}}  p50 ms   p95 ms   max ms  items  verdict "
            f"(p95 <= {TARGET_P95_MS:.0f} ms at {WAREHOUSE})")
        failed = []
        for kind in kinds:
            label = f"{kind.name}, {'cold' if kind.cold else 'warm'}"
            ok = kind.p95 <= TARGET_P95_MS
            judged = kind.location == WAREHOUSE
            if judged and not ok:
                failed.append(label)
            say(f"{kind.location or '(every)':12} {label:{width}} "
                f"{percentile(kind.latencies, .5):7.1f}  {kind.p95:7.1f}  "
                f"{max(kind.latencies):7.1f}  {kind.items:5d}  "
                f"{verdict(ok) if judged else ''}")
        say(f"\nWarehouse ({args.waiting:,} waiting) against store ({args.store_waiting:,} "
            "waiting), p95 for p95 (p50 for p50):")
        for kind in kinds:
            if kind.location != WAREHOUSE:
                continue
            twin = next((k for k in kinds if k.location == STORE and k.name == kind.name
                         and k.cold == kind.cold), None)
            if twin is not None:
                p50, twin_p50 = percentile(kind.latencies, .5), percentile(twin.latencies, .5)
                say(f"  {kind.name}, {'cold' if kind.cold else 'warm'}: "
                    f"{kind.p95:.1f} / {twin.p95:.1f} ms = {kind.p95 / twin.p95:.2f} "
                    f"({p50:.1f} / {twin_p50:.1f} ms = {p50 / twin_p50:.2f})")
        say(f"\n{verdict(not failed)}  p95 <= {TARGET_P95_MS:.0f} ms for every kind of "
            f"{WAREHOUSE} page" + (f" (slow: {', '.join(failed)})" if failed else ""))
        return 0 if not failed else 1
    finally:
        if bench is not None:
            await bench.close()
        await stop_server(process)
        await scratch.drop(keep=args.keep)
        if args.keep:
            print(f"kept: {scratch.url} (drop it with DROP DATABASE when done)")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True,
                        help="a PostgreSQL server on 127.0.0.1: a fresh database is made on it "
                             "and dropped after")
    parser.add_argument("--waiting", type=int, default=20_000,
                        help=f"orders waiting at {WAREHOUSE} (default 20,000)")
    parser.add_argument("--store-waiting", type=int, default=20,
                        help=f"orders waiting at {STORE} (default 20)")
    parser.add_argument("--history", type=int, default=30_000,
                        help="orders already shipped or handed over there (default 30,000)")
    parser.add_argument("--samples", type=int, default=30,
                        help="requests per kind of page (default 30)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database afterwards (its name is printed)")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql")):
        parser.error("fulfillment_queue.py loads PostgreSQL: give --database-url "
                     "postgresql://...")
    if args.waiting < 100 * LATER_PAGE:
        parser.error(f"--waiting must be at least {100 * LATER_PAGE:,} (the later page)")
    return args


def main() -> int:
    return run_fast(run(arguments()))


if __name__ == "__main__":
    raise SystemExit(main())
