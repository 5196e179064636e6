"""Invoicing under load: invoices issued as parcels ship, their PDFs rendered and downloaded.

    .venv/bin/python benchmarks/invoicing.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/test      # a fresh database there
    options: --orders N --concurrency C --workers W --renders R --capture-ratio

What it does, on a throw-away PostgreSQL database (``comptoir_bench_<random>``, dropped at
the end) or SQLite in a temporary directory when no URL is given:

1. migrates and configures the world of ``order_capture.py`` (its ``prepare``: channel
   "web", two warehouses and a store that ships, 200 SKUs), plus the company's legal details
   (invoices per shipment), France's 5.5 % rate with a quarter of the SKUs in that class (so
   invoices mix rates) and a manager's API key;
2. serves Comptoir (``comptoir serve --workers W``) and captures ``--orders`` orders of 1-3
   lines through ``POST /api/orders``;
3. reads each location's queue (``GET /api/fulfillments``, which makes the fulfillments),
   picks and packs every fulfillment, then ships them all at ``--concurrency`` simultaneous
   clients: each ``POST /api/fulfillments/{id}/ship`` issues the invoice of that parcel in
   its own transaction (the realistic path: the number is drawn from the counter row there).
   Printed: ship requests and invoices issued per second, latencies, and the pack step (the
   same locks and event, no stock and no invoice) as the reference; then, from the database,
   the numbers are 1..N without a gap or a duplicate and every parcel has its invoice;
4. renders PDFs: ``--render-sample`` statements one at a time in this process (the render's
   own cost: p50/p95), then ``--renders`` downloads of ``GET /api/invoices/{number}/pdf`` at
   ``--pdf-concurrency`` clients from the server, which renders in its worker threads
   (renders per second, p50/p95 as a client sees them; each a PDF; one downloaded twice gives
   the same bytes);
5. with ``--capture-ratio`` (several minutes): the capture benchmark's ratio to its baseline
   for the code before per-line VAT (``--before-rev``, default ``0111e48^``, extracted with
   ``git archive`` into the temporary directory) and for this tree, by running each tree's
   own ``benchmarks/order_capture.py --quick --rounds 3 --orders 3000`` (its servers import
   that tree's backend), before and after in turn ``--ratio-pairs`` times; the medians and
   their quotient are printed (target: per-line VAT costs at most 5 % of the ratio).

Everything talks to 127.0.0.1 only; every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ROOT,
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
    tail,
    verdict,
)
from order_capture import STORE, WAREHOUSES, line, order_body, prepare, sku_names

COMPANY: dict[str, Any] = {
    "legal_name": "Banc d'Essai SAS", "legal_form": "SAS", "share_capital": "10 000 €",
    "siren": "912345670", "siret": "91234567000017", "rcs": "RCS Lyon 912 345 670",
    "vat_number": "FR50912345670", "address_line1": "1 quai de la Pêcherie",
    "postal_code": "69001", "city": "Lyon", "country": "FR", "email": "factures@bench.example",
    "phone": "+33 1 99 00 00 00", "invoicing_policy": "per_shipment",
}
REDUCED_SHARE = 4  # every 4th SKU is in the super_reduced class (5.5 %)
TARGET_RATIO_KEPT = 0.95  # per-line VAT may cost at most 5 % of the capture ratio
RATIO_LINE = re.compile(r"ratio to the baseline: ([0-9.]+)")


# --- the database ----------------------------------------------------------------------------


async def prepare_invoicing(settings: Any, skus: Sequence[str]) -> tuple[str, str]:
    """The capture benchmark's world, plus what invoicing needs; (channel key, manager key)."""
    from sqlalchemy import update

    from comptoir.auth.service import create_api_key
    from comptoir.catalog.models import Variant
    from comptoir.config import service as config
    from comptoir.config.models import Company, TaxRate
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import piccolo_bound_to

    with contextlib.redirect_stdout(io.StringIO()):
        channel_key = await prepare(settings, skus, 1, None)
    with piccolo_bound_to(settings):
        await Company(**COMPANY).save()
        await TaxRate(country="FR", tax_class="super_reduced", rate_bp=550, name="TVA").save()
        config.invalidate()
    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(update(Variant).where(
                Variant.sku.in_(skus[::REDUCED_SHARE])).values(tax_class="super_reduced"))
            _row, manager_key = await create_api_key(session, name="bench manager",
                                                     role="manager")
    finally:
        await engine.dispose()
    return channel_key, manager_key


def orders(count: int, key: str, skus: Sequence[str]) -> list[Request]:
    """``count`` shipped orders of 1-3 lines (a standard and a 5.5 % SKU in most)."""
    rnd = random.Random("invoicing")
    requests = []
    for i in range(count):
        ref = f"BENCH-INV-{i:07d}"
        picked = rnd.sample(skus, rnd.choice([1, 2, 2, 3]))
        body = order_body(rnd, ref, [(sku, rnd.choice([1, 1, 2])) for sku in picked],
                          returning_customers=2000, pickup=False)
        requests.append(Request("POST", "/api/orders", {
            "Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            json.dumps(body).encode()))
    return requests


def posts(paths: Sequence[str], key: str) -> list[Request]:
    return [Request("POST", path, {"Authorization": f"Bearer {key}"}) for path in paths]


async def fulfillments(port: int, key: str) -> list[str]:
    """The ids of every location's open fulfillments, page by page (a read makes them)."""
    from _common import HttpConnection

    found: list[str] = []
    conn = HttpConnection("127.0.0.1", port, timeout_s=120)
    headers = f"Authorization: Bearer {key}\r\n".encode()
    try:
        for location in [code for code, *_ in WAREHOUSES] + [STORE[0]]:
            cursor = ""
            for _page in range(1000):  # bounded: 100,000 fulfillments per location at most
                path = f"/api/fulfillments?location={location}&limit=100" + (
                    f"&cursor={cursor}" if cursor else "")
                status, body = await conn.request("GET", path, headers)
                if status != 200:
                    raise SystemExit(f"GET {path}: {status} {body[:300]!r}")
                page = json.loads(body)
                found.extend(item["id"] for item in page["items"] if item["status"] == "new")
                cursor = page["next_cursor"] or ""
                if not cursor:
                    break
    finally:
        conn.close()
    return found


async def invoice_check(settings: Any, parcels: int) -> tuple[list[str], list[tuple[str, bool,
                                                                                   str]]]:
    """The invoices' numbers, and what the database says of them: (check, ok, detail)."""
    from sqlalchemy import text

    from comptoir.db.engine import create_engine

    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            numbers = [row[0] for row in (await conn.execute(text(
                "SELECT number FROM invoices ORDER BY number"))).all()]
            serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
            mixed = (await conn.execute(text(
                "SELECT count(*) FROM (SELECT invoice_id FROM invoiced_lines WHERE NOT shipping "
                "GROUP BY invoice_id HAVING count(DISTINCT vat_rate_bp) > 1) m"))).scalar()
            shipments = (await conn.execute(text("SELECT count(*) FROM shipments"))).scalar()
    finally:
        await engine.dispose()
    gapless = serials == list(range(1, len(serials) + 1))
    return numbers, [
        ("numbers 1..N, no gap, no duplicate", gapless,
         f"{len(numbers)} invoices, {len(set(numbers))} distinct numbers, serials "
         f"{serials[:1]}..{serials[-1:]}"),
        ("one invoice per parcel shipped", len(numbers) == shipments == parcels,
         f"{shipments} parcels in the database, {parcels} answers 200, {len(numbers)} invoices"),
        ("invoices that mix 20 % and 5.5 % goods", bool(mixed), f"{mixed}"),
    ]


# --- PDFs ------------------------------------------------------------------------------------


async def render_cost(settings: Any, numbers: Sequence[str], say: Any) -> None:
    """Render ``numbers`` one at a time in this process: the cost of one render, no queue."""
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.invoicing import service
    from comptoir.invoicing.documents import render_pdf

    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            statements = [await service.statement(session, number) for number in numbers]
    finally:
        await engine.dispose()
    started = time.perf_counter()
    render_pdf(statements[0])  # imports WeasyPrint, Pango, fonts and factur-x: not counted
    say(f"  first render (imports WeasyPrint, its fonts and factur-x): "
        f"{time.perf_counter() - started:.2f} s")
    times, cpu = [], time.process_time()
    wall = time.perf_counter()
    for statement in statements:
        started = time.perf_counter()
        pdf = render_pdf(statement)
        times.append((time.perf_counter() - started) * 1000)
        assert pdf.startswith(b"%PDF")
    wall = time.perf_counter() - wall
    say(f"  {len(times)} renders one after the other in this process: p50 "
        f"{percentile(times, .5):.0f} ms, p95 {percentile(times, .95):.0f} ms, max "
        f"{max(times):.0f} ms; {len(times) / wall:.1f} renders/s on one core; CPU "
        f"{(time.process_time() - cpu) / len(times) * 1000:.0f} ms per render; "
        f"{len(pdf) / 1024:.0f} KiB each")


# --- the capture ratio before and after per-line VAT --------------------------------------------


def extract(rev: str, into: Path) -> tuple[Path, str]:
    """``rev``'s backend and benchmarks, from this repository, in ``into`` (git archive);
    and its short hash."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "--format=tar", rev, "backend", "benchmarks"],
                             cwd=ROOT, capture_output=True, check=True, timeout=120).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    short = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True,
                           text=True, timeout=30).stdout.strip()
    return into, short


def ratio_in(log: Path) -> tuple[float | None, list[str]]:
    """The median ratio a capture run printed last in its summary, and its lines that say
    how it got there (each round's ratio, orders/s, statements per capture)."""
    text = tail(log, 1_000_000)
    found = RATIO_LINE.findall(text)
    said = [row.strip() for row in text.splitlines()
            if "ratio this round" in row or "load average at start" in row
            or re.search(r"(PASS|FAIL)\s+(orders/s|SQL statements|p99)", row)]
    return (float(found[-1]) if found else None), said


async def capture_ratio(tree: Path, admin_url: str, args: argparse.Namespace,
                        log: Path) -> tuple[float | None, list[str]]:
    """One run of ``tree``'s own capture benchmark; its median ratio to the baseline."""
    argv = [sys.executable, str(tree / "benchmarks" / "order_capture.py"), "--database-url",
            admin_url, "--quick", "--rounds", str(args.ratio_rounds), "--orders",
            str(args.ratio_orders)]
    env = {**process_env({}), "PYTHONPATH": str(tree / "backend")}
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(*argv, cwd=tree, env=env, stdout=out,
                                                       stderr=asyncio.subprocess.STDOUT,
                                                       start_new_session=True)
        try:
            await asyncio.wait_for(process.wait(), args.ratio_timeout)
        except TimeoutError:
            await stop_server(process)  # SIGTERM, then SIGKILL to its group
            return None, []
    return ratio_in(log)


async def ratio_before_after(scratch: Scratch, args: argparse.Namespace, say: Any) -> bool:
    before_tree, rev = extract(args.before_rev, scratch.tmp / "before-vat")
    say(f"\nCapture benchmark's ratio to its baseline, before per-line VAT ({args.before_rev} = "
        f"{rev}) and now: each tree's benchmarks/order_capture.py --quick --rounds "
        f"{args.ratio_rounds} --orders {args.ratio_orders}, in turn, {args.ratio_pairs} pair(s)")
    ratios: dict[str, list[float]] = {"before": [], "after": []}
    for pair in range(args.ratio_pairs):
        # ABBA: the second pair starts with the side the first ended with.
        order = [("before", before_tree), ("after", ROOT)]
        for side, tree in (order if pair % 2 == 0 else order[::-1]):
            started = time.perf_counter()
            log = scratch.tmp / f"capture-{side}-{pair}.log"
            ratio, said = await capture_ratio(tree, scratch.admin_url, args, log)
            shown = "none (failed or timed out)" if ratio is None else f"{ratio:.2f}"
            say(f"  {side:6} run {pair + 1}: ratio {shown} "
                f"in {time.perf_counter() - started:.0f} s; load average "
                f"{os.getloadavg()[0]:.2f}")
            if ratio is not None:
                ratios[side].append(ratio)
                say("    " + "\n    ".join(said))
            else:
                say("    " + tail(log, 1500).replace("\n", "\n    "))
    if not (ratios["before"] and ratios["after"]):
        say(f"  {verdict(False)}  no ratio for one side")
        return False
    before, after = statistics.median(ratios["before"]), statistics.median(ratios["after"])
    kept = after / before
    say(f"  before: {', '.join(f'{r:.2f}' for r in ratios['before'])}; after: "
        f"{', '.join(f'{r:.2f}' for r in ratios['after'])}")
    ok = kept >= TARGET_RATIO_KEPT
    say(f"  {verdict(ok)}  median ratio before {before:.2f}, after {after:.2f}: after / before "
        f"= {kept:.3f} (target >= {TARGET_RATIO_KEPT})")
    return ok


# --- main ------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    from comptoir.settings import load_settings

    scratch = Scratch(args.database_url, "comptoir-bench-invoicing-")
    settings = load_settings(scratch.env())
    env = process_env(scratch.env())
    skus = sku_names(args.skus)
    pg_name = scratch.name if scratch.is_postgres else None
    process = None
    checks: list[tuple[str, bool]] = []

    def say(text: str = "") -> None:
        print(text, flush=True)

    try:
        await scratch.create()
        where = scratch.name if scratch.is_postgres else scratch.url
        say(f"Invoicing benchmark on {scratch.label} ({where})")
        say(f"  load average at start: {loadavg()}")
        say(f"  {args.orders} orders of 1-3 lines, shipped at concurrency {args.concurrency}, "
            f"{args.workers} uvicorn worker(s); {args.skus} SKUs, one in {REDUCED_SHARE} at "
            "5.5 %; invoices issued per shipment")
        if args.ratio_only:
            ok = scratch.is_postgres and await ratio_before_after(scratch, args, say)
            say(f"\n  load average now: {loadavg()}")
            return 0 if ok else 1
        started = time.perf_counter()
        channel_key, manager_key = await prepare_invoicing(settings, skus)
        say(f"  setup (migrate, configuration, catalog, stock, company, API keys): "
            f"{time.perf_counter() - started:.1f} s")

        port = free_port()
        process = await start_server(
            [sys.executable, "-m", "comptoir", "serve", "--no-migrate", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(args.workers)], env, port,
            scratch.tmp / "comptoir.log")

        def load(requests: Sequence[Request], concurrency: int,
                 keep_bodies: bool = False) -> Any:
            return run_load(port, requests, concurrency, max_seconds=args.max_seconds,
                            keep_bodies=keep_bodies, server_pid=process.pid if process else None,
                            database=pg_name)

        captured = await load(orders(args.orders, channel_key, skus), args.concurrency)
        say("\nOrders captured (POST /api/orders)")
        say(line("capture", captured))
        started = time.perf_counter()
        work = await fulfillments(port, manager_key)
        say(f"  the locations' queues read, {len(work)} fulfillments made: "
            f"{time.perf_counter() - started:.1f} s")
        base = "/api/fulfillments/"
        picked = await load(posts([f"{base}{f}/pick" for f in work], manager_key),
                            args.concurrency)
        packed = await load(posts([f"{base}{f}/pack" for f in work], manager_key),
                            args.concurrency)
        say("\nThe work before the parcels leave")
        say(line("pick", picked))
        say(line("pack (the reference: locks, state, event; no stock, no invoice)", packed))

        ship_headers = {"Authorization": f"Bearer {manager_key}",
                        "Content-Type": "application/json"}
        parcels = [Request("POST", f"{base}{f}/ship", ship_headers, json.dumps(
            {"carrier": "colissimo", "tracking_number": f"6A{i:011d}FR"}).encode())
            for i, f in enumerate(work)]
        # Unmeasured: each worker's first parcels (first use of the invoicing code path).
        warm = min(args.warmup, len(parcels) // 10)
        warmed = await load(parcels[:warm], args.concurrency)
        shipped = await load(parcels[warm:], args.concurrency)
        say(f"\nParcels shipped, each issuing its invoice in the same transaction "
            f"({args.concurrency} concurrent; {warm} shipped first, unmeasured)")
        say(line("ship + invoice", shipped))
        numbers, found = await invoice_check(settings, warmed.count(200) + shipped.count(200))
        issued = len(numbers) - warmed.count(200)  # one per parcel: checked just below
        invoices_rate = issued / shipped.wall_s if shipped.wall_s else 0.0
        say(f"  invoices issued: {issued} in {shipped.wall_s:.2f} s = "
            f"{invoices_rate:,.0f}/s (pack step: {packed.rate:,.0f}/s)")
        for label, ok, detail in found:
            say(f"  {verdict(ok)}  {label}: {detail}")
            checks.append((label, ok))
        all_answered = (warmed.count(200) + shipped.count(200) == len(work)
                        and not shipped.errors and not warmed.errors)
        checks.append(("every ship request answered 200", all_answered))

        # PDFs: the render's own cost, then downloads served by the server's worker threads.
        rnd = random.Random(3)
        say(f"\nPDF (Factur-X) renders, {args.render_sample} statements in this process")
        await render_cost(settings, rnd.sample(numbers, min(args.render_sample, len(numbers))),
                          say)
        sample = rnd.sample(numbers, min(args.renders, len(numbers)))
        headers = {"Authorization": f"Bearer {manager_key}"}
        downloads = [Request("GET", f"/api/invoices/{n}/pdf", headers) for n in sample]
        await load(downloads[:args.workers * 2], args.workers * 2)  # each worker's first import
        served = await load(downloads, args.pdf_concurrency, keep_bodies=True)
        say(f"\nPDF downloads (GET /api/invoices/{{number}}/pdf, rendered by the server in its "
            f"worker threads), {len(sample)} invoices at {args.pdf_concurrency} concurrent")
        say(line("pdf", served))
        say(f"  renders per second: {served.rate:.1f}; PDF p50 "
            f"{percentile(served.latencies_ms, .5):.0f} ms, p95 "
            f"{percentile(served.latencies_ms, .95):.0f} ms")
        pdfs_ok = (served.count(200) == served.done == len(sample)
                   and all(body.startswith(b"%PDF") for body in served.bodies))
        first = await load(downloads[:1], 1, keep_bodies=True)
        again = await load(downloads[:1], 1, keep_bodies=True)
        same = bool(first.bodies) and first.bodies == again.bodies
        say(f"  {verdict(pdfs_ok)}  every download a PDF (answers "
            f"{served.count(200)} x 200 of {len(sample)})")
        say(f"  {verdict(same)}  {sample[0]} downloaded again: the same bytes")
        checks += [("every download a PDF", pdfs_ok), ("the same bytes again", same)]
        await stop_server(process)
        process = None

        ratio_ok = True
        if args.capture_ratio:
            if not scratch.is_postgres:
                say("\n--capture-ratio needs --database-url (the targets are for PostgreSQL)")
            else:
                ratio_ok = await ratio_before_after(scratch, args, say)
                checks.append(("capture ratio kept within 5 %", ratio_ok))

        say(f"\nSummary ({scratch.label}, {args.workers} workers, concurrency "
            f"{args.concurrency})")
        say(f"  load average now: {loadavg()}")
        say(f"  invoices issued per second (ship + invoice, {args.concurrency} concurrent): "
            f"{invoices_rate:,.0f} ({issued} invoices measured; ship p50 "
            f"{percentile(shipped.latencies_ms, .5):.1f} ms, p99 "
            f"{percentile(shipped.latencies_ms, .99):.1f} ms; pack {packed.rate:,.0f}/s)")
        say(f"  PDF downloads: {served.rate:.1f} renders/s at {args.pdf_concurrency} concurrent, "
            f"p50 {percentile(served.latencies_ms, .5):.0f} ms, p95 "
            f"{percentile(served.latencies_ms, .95):.0f} ms")
        for label, ok in checks:
            say(f"  {verdict(ok)}  {label}")
        return 0 if all(ok for _label, ok in checks) else 1
    finally:
        await stop_server(process)
        await scratch.drop(keep=args.keep)
        if args.keep:
            print(f"kept: {scratch.url}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL server on 127.0.0.1 (a fresh database is made on it "
                             "and dropped after); SQLite in a temporary directory when absent")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=None,
                        help="uvicorn worker processes (default: 2 on PostgreSQL, 1 on SQLite)")
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=64,
                        help="parcels shipped first, unmeasured (at most a tenth)")
    parser.add_argument("--render-sample", type=int, default=40,
                        help="renders timed one at a time in this process")
    parser.add_argument("--renders", type=int, default=400,
                        help="PDF downloads from the server (a sample of the invoices; "
                             "--renders 2000 for all)")
    parser.add_argument("--pdf-concurrency", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="a measured run stops after this long, whatever its count")
    parser.add_argument("--capture-ratio", action="store_true",
                        help="also the capture benchmark's ratio before and after per-line VAT "
                             "(several minutes)")
    parser.add_argument("--ratio-only", action="store_true",
                        help="only the capture ratio before and after per-line VAT")
    parser.add_argument("--before-rev", default="0111e48^",
                        help="the commit before per-line VAT")
    parser.add_argument("--ratio-pairs", type=int, default=2,
                        help="runs of each side, in turn (ABBA)")
    parser.add_argument("--ratio-rounds", type=int, default=3)
    parser.add_argument("--ratio-orders", type=int, default=3000)
    parser.add_argument("--ratio-timeout", type=float, default=600.0,
                        help="one capture run is stopped after this long")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    args.workers = args.workers or (2 if args.database_url else 1)
    args.capture_ratio = args.capture_ratio or args.ratio_only
    return args


def main() -> int:
    return run_fast(run(arguments()))


if __name__ == "__main__":
    raise SystemExit(main())
