"""Live feed fan-out: N subscribed websocket clients, one event, time until every client has it.

    python benchmarks/ws_fanout.py                       # SQLite in a temporary directory
    python benchmarks/ws_fanout.py --clients 1000 5000 --rounds 5
    python benchmarks/ws_fanout.py --database-url postgresql://postgres@127.0.0.1:5432/test \\
        [--redis-url redis://127.0.0.1:6379/0]
        # a fresh database on that server (comptoir_bench_<random>), dropped after

One ``comptoir serve`` process (uvicorn, as in production) is started on a throw-away
database. For each client count, that many websocket clients (one asyncio process,
authenticated with a manager's API key, offering permessage-deflate as browsers do unless
``--no-deflate``) subscribe to ``inventory:<sku>``; then, ``--rounds`` times, one stock
adjustment is posted through the API and the time from the POST to the moment each client
has the event is measured. The clients share one process and one core with their own
parsing, so the figures are an upper bound of what the server takes.

Printed per client count: connect time, p50 / p99 / max delivery time over all rounds (and
the worst round's p99), server RSS per connection ((RSS with the clients - RSS before) / N).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "backend"))
os.environ.setdefault("PICCOLO_CONF", "comptoir.config.piccolo_conf")

SKU = "BENCH-TEE-M"
LOCATION = "WH-BENCH"
TARGET_P99_MS_AT_1000 = 250.0


def _raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- the server ----------------------------------------------------------------------------


async def _prepare(settings: Any) -> str:
    """Migrate, add one location, one SKU with stock and a manager's API key; return the key."""
    from comptoir.auth.service import create_api_key
    from comptoir.catalog.models import Product, Variant
    from comptoir.config.models import Location
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.db.migrate import migrate, piccolo_bound_to
    from comptoir.inventory import service as inventory

    await migrate(settings)
    with piccolo_bound_to(settings):
        await Location(code=LOCATION, name="Entrepôt de mesure", kind="warehouse",
                       city="Paris", latitude=48.9, longitude=2.4, ships=True,
                       serves_pickups=False).save()
        engine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                product = Product(name="T-shirt de mesure", search_name="t-shirt de mesure")
                product.variants = [Variant(sku=SKU, name="T-shirt M", price=1999,
                                            currency="EUR", options={}, weight_g=200)]
                session.add(product)
                await session.flush()
                await inventory.adjust(session, sku=SKU, location=LOCATION, delta=1_000_000,
                                       reason="opening stock", actor="bench", kind="receipt")
                _row, key = await create_api_key(session, name="bench", role="manager")
        finally:
            await engine.dispose()
    return key


async def _start_server(settings: Any, port: int, log: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")}
    env.update({
        "COMPTOIR_DATABASE_URL": settings.database_url,
        "COMPTOIR_VAR_DIR": settings.var_dir,
        "COMPTOIR_SECRET_KEY": settings.secret_key,
        "COMPTOIR_LOG_LEVEL": "warning",
        "PYTHONPATH": str(ROOT / "backend"),
    })
    if settings.redis_url:
        env["COMPTOIR_REDIS_URL"] = settings.redis_url
        env["COMPTOIR_REDIS_PREFIX"] = settings.redis_prefix
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "comptoir", "serve", "--no-migrate", "--host", "127.0.0.1",
            "--port", str(port), cwd=ROOT, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
        )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
        for _ in range(300):
            if process.returncode is not None:
                raise SystemExit(f"the server exited:\n{await _tail(log)}")
            try:
                if (await client.get("/ready")).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"the server is not ready after 30 s:\n{await _tail(log)}")


async def _tail(log: Path) -> str:
    return (await asyncio.to_thread(log.read_text))[-3000:]


# --- the clients ---------------------------------------------------------------------------


async def _subscribed(url: str, key: str, deflate: bool) -> ClientConnection:
    connection = await connect(
        url, additional_headers={"Authorization": f"Bearer {key}"}, open_timeout=60,
        ping_interval=None, compression="deflate" if deflate else None, max_queue=None,
    )
    await connection.send(json.dumps({"subscribe": [f"inventory:{SKU}"], "since": None}))
    while json.loads(await connection.recv()).get("type") != "subscribed":
        pass
    return connection


async def _next_event(connection: ClientConnection) -> float:
    while True:
        message = json.loads(await connection.recv())
        if "seq" in message and "data" in message:
            return time.perf_counter()


async def _measure(base: str, key: str, pid: int, count: int, rounds: int,
                   deflate: bool) -> dict[str, Any]:
    url = base.replace("http", "ws", 1) + "/ws"
    rss_before = _rss_kb(pid)
    gate = asyncio.Semaphore(100)  # connections being opened at once (the listen backlog)

    async def one() -> ClientConnection:
        async with gate:
            return await _subscribed(url, key, deflate)

    started = time.perf_counter()
    clients = await asyncio.gather(*(one() for _ in range(count)))
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(1.0)
    rss_with = _rss_kb(pid)

    # The clients' own garbage collection (5,000 connections of objects) must not count as
    # the server's delay: it is paused while events are in flight.
    gc.collect()
    gc.disable()
    latencies: list[float] = []
    round_p99: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30,
                                 headers={"Authorization": f"Bearer {key}"}) as api:
        for _ in range(rounds):
            waiting = [asyncio.create_task(_next_event(c)) for c in clients]
            await asyncio.sleep(0.2)  # every client is waiting in recv()
            sent = time.perf_counter()
            response = await api.post("/api/inventory/adjustments", json={
                "location": LOCATION, "sku": SKU, "delta": -1, "reason": "fan-out benchmark"})
            if response.status_code not in (200, 201):
                raise SystemExit(f"adjustment refused: {response.status_code} {response.text}")
            arrived = await asyncio.wait_for(asyncio.gather(*waiting), 120)
            this_round = [(t - sent) * 1000 for t in arrived]
            latencies += this_round
            round_p99.append(_percentile(this_round, 0.99))
            await asyncio.sleep(0.5)

    gc.enable()
    await asyncio.gather(*(c.close() for c in clients))
    await asyncio.sleep(1.0)
    return {
        "clients": count,
        "connect_s": connect_seconds,
        "p50_ms": statistics.median(latencies),
        "p99_ms": _percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "worst_round_p99_ms": max(round_p99),
        "rss_before_mb": rss_before / 1024,
        "rss_with_mb": rss_with / 1024,
        "kb_per_connection": (rss_with - rss_before) / count,
    }


# --- main ----------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> int:
    from comptoir.settings import load_settings

    limit = _raise_fd_limit(max(args.clients) * 2 + 200)
    if limit < max(args.clients) + 100:
        raise SystemExit(f"open-file limit {limit} is too low for {max(args.clients)} clients")
    tmp = Path(tempfile.mkdtemp(prefix="comptoir-ws-bench-"))
    database_url = f"sqlite:///{tmp / 'bench.db'}"
    admin_url, db_name = "", ""
    if args.database_url:
        admin_url = args.database_url
        db_name = f"comptoir_bench_{secrets.token_hex(4)}"
        database_url = urlunsplit(urlsplit(admin_url)._replace(path="/" + db_name))
    env = {"COMPTOIR_DATABASE_URL": database_url, "COMPTOIR_VAR_DIR": str(tmp / "var"),
           "COMPTOIR_REDIS_PREFIX": f"comptoir-bench-{secrets.token_hex(4)}"}
    if args.redis_url:
        env["COMPTOIR_REDIS_URL"] = args.redis_url
    settings = load_settings(env)
    process = None
    try:
        if admin_url:
            import asyncpg

            conn = await asyncpg.connect(admin_url)
            await conn.execute(f'CREATE DATABASE "{db_name}"')
            await conn.close()
        key = await _prepare(settings)
        port = _free_port()
        process = await _start_server(settings, port, tmp / "server.log")
        base = f"http://127.0.0.1:{port}"
        print(f"Comptoir {'PostgreSQL' if admin_url else 'SQLite'}"
              f"{' + Redis' if args.redis_url else ''}, one process (pid {process.pid}); "
              f"clients offer deflate: {not args.no_deflate}; {args.rounds} events per size",
              flush=True)
        results = []
        for count in args.clients:
            result = await _measure(base, key, process.pid, count, args.rounds,
                                    not args.no_deflate)
            results.append(result)
            print(f"{count:>6} clients: connected in {result['connect_s']:.1f} s; delivery "
                  f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
                  f"max {result['max_ms']:.0f} ms (worst round p99 "
                  f"{result['worst_round_p99_ms']:.0f} ms); server RSS "
                  f"{result['rss_before_mb']:.0f} -> {result['rss_with_mb']:.0f} MB, "
                  f"{result['kb_per_connection']:.1f} KB per connection", flush=True)
        verdict = [r for r in results if r["clients"] == 1000]
        if verdict:
            ok = verdict[0]["p99_ms"] <= TARGET_P99_MS_AT_1000
            print(f"target p99 <= {TARGET_P99_MS_AT_1000:.0f} ms at 1,000 clients: "
                  f"{'met' if ok else 'MISSED'}")
        return 0
    finally:
        if process is not None and process.returncode is None:
            process.terminate()
            await process.wait()
        if admin_url:
            import asyncpg

            conn = await asyncpg.connect(admin_url)
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                db_name)
            await conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
            await conn.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--rounds", type=int, default=5, help="events per client count")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--redis-url", help="fan out through Redis, as with several processes")
    parser.add_argument("--no-deflate", action="store_true",
                        help="clients do not offer permessage-deflate")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(_args())))
