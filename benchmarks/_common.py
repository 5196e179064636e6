"""What the benchmarks share: throw-away databases, server processes, an HTTP load generator.

Everything here talks to 127.0.0.1 only: a database URL naming another host is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BACKEND = ROOT / "backend"
if str(BACKEND) not in sys.path:
    sys.path.insert(0, str(BACKEND))
os.environ.setdefault("PICCOLO_CONF", "comptoir.config.piccolo_conf")

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

__all__ = [
    "CpuMeter",
    "LoadResult",
    "Request",
    "Scratch",
    "free_port",
    "loadavg",
    "percentile",
    "run_load",
    "start_server",
    "stop_server",
    "verdict",
]


# --- small things ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_fast(main: Coroutine[Any, Any, int]) -> int:
    """Run ``main`` on uvloop when it is installed (the servers use it), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))  # ceil(share * n), at least 1
    return ordered[min(rank, len(ordered)) - 1]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min, {os.cpu_count()} cores)"


def ensure_local(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"{url}: the benchmarks only talk to 127.0.0.1, not {host!r}")


# --- a throw-away database -------------------------------------------------------------------


class Scratch:
    """A temporary directory and a fresh database: SQLite in the directory, or a new
    PostgreSQL database ``comptoir_bench_<random>`` on the given server, dropped at the end."""

    def __init__(self, admin_url: str | None, prefix: str, reuse: str | None = None) -> None:
        if admin_url:
            ensure_local(admin_url)
            if not admin_url.startswith(("postgres://", "postgresql")):
                raise SystemExit(f"{admin_url}: give a postgresql:// URL (or none for SQLite)")
        if reuse and not (admin_url and reuse.startswith("comptoir_bench_")):
            raise SystemExit(f"{reuse}: only a comptoir_bench_* database kept by an earlier run "
                             "can be reused")
        self.admin_url = admin_url or ""
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        # A reused database was kept by an earlier run (--keep): it is neither made nor dropped.
        self.reused = bool(reuse)
        self.name = reuse or f"comptoir_bench_{secrets.token_hex(4)}"
        if self.admin_url:
            self.url = urlunsplit(urlsplit(self.admin_url)._replace(path="/" + self.name))
        else:
            self.url = f"sqlite:///{self.tmp / 'bench.db'}"

    @property
    def is_postgres(self) -> bool:
        return bool(self.admin_url)

    @property
    def label(self) -> str:
        return "PostgreSQL" if self.is_postgres else "SQLite"

    def env(self) -> dict[str, str]:
        return {"COMPTOIR_DATABASE_URL": self.url, "COMPTOIR_VAR_DIR": str(self.tmp / "var"),
                "COMPTOIR_SECRET_KEY": "bench-" + secrets.token_urlsafe(32),
                "COMPTOIR_LOG_LEVEL": "warning"}

    async def create(self) -> None:
        if self.is_postgres and not self.reused:
            import asyncpg

            conn = await asyncpg.connect(self.admin_url)
            try:
                await conn.execute(f'CREATE DATABASE "{self.name}"')
            finally:
                await conn.close()

    async def drop(self, keep: bool = False) -> None:
        try:
            if self.is_postgres and not keep and not self.reused:
                import asyncpg

                conn = await asyncpg.connect(self.admin_url)
                try:
                    await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE datname = $1", self.name)
                    await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                finally:
                    await conn.close()
        finally:
            # A kept SQLite database lives in the directory; a kept PostgreSQL one does not.
            if not (keep and not self.is_postgres):
                shutil.rmtree(self.tmp, ignore_errors=True)


# --- server processes ------------------------------------------------------------------------


def process_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without COMPTOIR_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")}
    env.update({"PYTHONPATH": str(BACKEND), "PYTHONUNBUFFERED": "1",
                "PICCOLO_CONF": "comptoir.config.piccolo_conf"})
    env.update(extra)
    return env


async def start_server(
    argv: Sequence[str], env: dict[str, str], port: int, log: Path, ready_path: str = "/health",
    timeout_s: float = 60,
) -> asyncio.subprocess.Process:
    """Start a server in a process group of its own; return once ``ready_path`` answers 200."""
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise SystemExit(f"the server exited ({process.returncode}):\n{tail(log)}")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError,
                                 TimeoutError):
            conn = HttpConnection("127.0.0.1", port, timeout_s=5)
            await conn.open()
            try:
                status, _ = await conn.request("GET", ready_path)
            finally:
                conn.close()
            if status == 200:
                return process
        await asyncio.sleep(0.2)
    await stop_server(process)
    raise SystemExit(f"the server is not ready after {timeout_s:.0f} s:\n{tail(log)}")


async def stop_server(process: asyncio.subprocess.Process | None) -> None:
    """Stop a server started by ``start_server``: SIGTERM, then SIGKILL to its group."""
    if process is None:
        return
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            pass
    # Uvicorn's workers are in the group we made for the server: none may outlive it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 5)


def tail(log: Path, size: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-size:]
    except OSError:
        return ""


# --- CPU accounting --------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _process_seconds(pids: Sequence[int]) -> tuple[float, float]:
    """(user, system) CPU seconds of these processes."""
    user = system = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11])
        system += int(fields[12])
    return user / _TICK, system / _TICK


def _backends(database: str) -> list[int]:
    """PostgreSQL server processes serving ``database`` (their title names it)."""
    found = []
    needle = f" {database} ".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes().replace(b"\0", b" "):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _machine_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


@dataclass
class CpuMeter:
    """CPU used between ``start`` and ``stop``: by this process, by a server's process tree
    (user and system time), by the PostgreSQL backends of the benchmark's database (those
    alive at the end; a backend that exited meanwhile is missed), and by the whole machine."""

    server_pid: int | None = None
    database: str | None = None
    pids: list[int] = field(default_factory=list)
    started: dict[str, Any] = field(default_factory=dict)
    result: dict[str, float] = field(default_factory=dict)

    def _backend_seconds(self) -> dict[int, float]:
        if not self.database:
            return {}
        return {pid: sum(_process_seconds([pid])) for pid in _backends(self.database)}

    def start(self) -> None:
        self.pids = _descendants(self.server_pid) if self.server_pid else []
        busy, total = _machine_seconds()
        self.started = {"wall": time.perf_counter(), "client": time.process_time(),
                        "server": _process_seconds(self.pids),
                        "backends": self._backend_seconds(), "busy": busy, "all": total}

    def stop(self) -> dict[str, float]:
        s = self.started
        busy, total = _machine_seconds()
        user, system = _process_seconds(self.pids)
        backends = self._backend_seconds()
        self.result = {
            "wall": time.perf_counter() - s["wall"],
            "client": time.process_time() - s["client"],
            "server_user": user - s["server"][0],
            "server_system": system - s["server"][1],
            "postgres": sum(cpu - s["backends"].get(pid, 0.0) for pid, cpu in backends.items()),
            "machine_busy": busy - s["busy"],
            "machine_all": total - s["all"],
        }
        return self.result

    def describe(self, requests: int) -> str:
        r = self.result
        wall = r["wall"] or 1e-9
        n = max(requests, 1)
        server = r["server_user"] + r["server_system"]
        busy_share = r["machine_busy"] / r["machine_all"] if r["machine_all"] else 0.0
        other = max(0.0, r["machine_busy"] - r["client"] - server - r["postgres"])
        text = (f"CPU: load generator {r['client'] / wall:.2f} cores "
                f"({r['client'] / n * 1e6:.0f} µs/request); server processes "
                f"{server / wall:.2f} cores ({server / n * 1e6:.0f} µs/request, of which system "
                f"{r['server_system'] / n * 1e6:.0f})")
        if self.database:
            text += (f"; PostgreSQL backends {r['postgres'] / wall:.2f} cores "
                     f"({r['postgres'] / n * 1e6:.0f} µs/request)")
        return text + f"; anything else {other / wall:.2f} cores; machine {busy_share:.0%} busy"


# --- HTTP/1.1 load generator -----------------------------------------------------------------


class HttpConnection:
    """A bare keep-alive HTTP/1.1 client connection: a few µs of CPU per request.

    Enough for our servers' answers (Content-Length or chunked bodies); not a general client.
    """

    def __init__(self, host: str, port: int, timeout_s: float = 60.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.retry_after: bytes | None = None  # of the last answer, when it had one

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: bytes = b"",
                      body: bytes = b"") -> tuple[int, bytes]:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._exchange(method, path, headers, body)
        except BaseException:
            self.close()  # a half-read answer would poison the next request
            raise

    async def _exchange(self, method: str, path: str, headers: bytes,
                        body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Length: {len(body)}\r\n").encode()
        self.writer.write(head + headers + b"\r\n" + body)
        block = await self.reader.readuntil(b"\r\n\r\n")
        lines = block.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = None, False, False
        self.retry_after = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
            elif name == b"retry-after":
                self.retry_after = value.strip()
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size + 2))
            payload = b"".join(p[:-2] for p in parts)
        elif length is not None:
            payload = await self.reader.readexactly(length)
        else:
            payload = await self.reader.read()
            close = True
        if close:
            self.close()
        return status, payload


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def raw_headers(self) -> bytes:
        return "".join(f"{k}: {v}\r\n" for k, v in self.headers.items()).encode()


@dataclass
class LoadResult:
    latencies_ms: list[float]
    statuses: list[int]
    bodies: list[bytes]
    wall_s: float
    errors: list[str]
    cpu: CpuMeter
    # 503 answers without a Retry-After header (the raw client reads it; httpx: not counted)
    unavailable_without_retry_after: int = 0

    @property
    def done(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.done / self.wall_s if self.wall_s else 0.0

    def count(self, *codes: int) -> int:
        return sum(1 for s in self.statuses if s in codes)

    def summary(self) -> str:
        lat = self.latencies_ms
        codes: dict[int, int] = {}
        for s in self.statuses:
            codes[s] = codes.get(s, 0) + 1
        return (f"{self.done} requests in {self.wall_s:.2f} s = {self.rate:,.0f}/s; latency "
                f"p50 {percentile(lat, .5):.1f} ms, p95 {percentile(lat, .95):.1f} ms, "
                f"p99 {percentile(lat, .99):.1f} ms, max {max(lat, default=0):.1f} ms; "
                f"answers {dict(sorted(codes.items()))}"
                + (f"; {len(self.errors)} transport errors" if self.errors else ""))


async def run_load(port: int, requests: Sequence[Request], concurrency: int, *,
                   client: str = "raw", max_seconds: float = 120.0, keep_bodies: bool = False,
                   server_pid: int | None = None, database: str | None = None) -> LoadResult:
    """Send ``requests`` to 127.0.0.1:port from ``concurrency`` keep-alive connections.

    Each connection sends its next request when the previous answer is in (closed loop).
    Bounded in count (the requests given) and in time (``max_seconds``).
    """
    latencies: list[float] = []
    statuses: list[int] = []
    bodies: list[bytes] = []
    errors: list[str] = []
    bare_503 = 0
    position = 0
    deadline = time.monotonic() + max_seconds
    cpu = CpuMeter(server_pid, database)

    def take() -> Request | None:
        nonlocal position
        if position >= len(requests) or time.monotonic() > deadline:
            return None
        position += 1
        return requests[position - 1]

    def record(started: float, status: int, body: bytes) -> None:
        latencies.append((time.perf_counter() - started) * 1000)
        statuses.append(status)
        if keep_bodies:
            bodies.append(body)

    async def raw_worker(conn: HttpConnection) -> None:
        nonlocal bare_503
        while (req := take()) is not None:
            started = time.perf_counter()
            try:
                status, body = await conn.request(req.method, req.path, req.raw_headers(),
                                                  req.body)
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
                errors.append(repr(exc))
                continue
            record(started, status, body)
            if status == 503 and not conn.retry_after:
                bare_503 += 1

    if client == "raw":
        connections = [HttpConnection("127.0.0.1", port) for _ in range(concurrency)]
        gate = asyncio.Semaphore(64)  # connections opened at once: stay within the backlog

        async def opened(conn: HttpConnection) -> None:
            async with gate:
                await conn.open()

        await asyncio.gather(*(opened(c) for c in connections))
        cpu.start()
        try:
            await asyncio.gather(*(raw_worker(c) for c in connections))
        finally:
            cpu.stop()
            for c in connections:
                c.close()
    else:
        import httpx

        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                     timeout=60) as http:

            async def httpx_worker() -> None:
                while (req := take()) is not None:
                    started = time.perf_counter()
                    try:
                        response = await http.request(req.method, req.path, headers=req.headers,
                                                      content=req.body or None)
                    except httpx.TransportError as exc:
                        errors.append(repr(exc))
                        continue
                    record(started, response.status_code, response.content)

            # Open the connections before the clock starts, as the raw client does.
            await asyncio.gather(*(http.get("/health") for _ in range(concurrency)))
            cpu.start()
            try:
                await asyncio.gather(*(httpx_worker() for _ in range(concurrency)))
            finally:
                cpu.stop()
    return LoadResult(latencies, statuses, bodies, cpu.result["wall"], errors, cpu, bare_503)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
