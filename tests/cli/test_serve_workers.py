"""``comptoir serve --workers 2``: two processes, each with its own socket on one port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _workers(pid: int) -> set[int]:
    """The worker processes of ``pid`` (not multiprocessing's resource tracker)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in command:
                found.add(int(child))
    return found


def _listening_sockets(port: int) -> int:
    listening = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                listening += 1
    return listening


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT") or not Path("/proc").exists(),
                    reason="SO_REUSEPORT and /proc (Linux) are how the workers are found")
def test_two_workers_answer_on_one_port_and_stop_together(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")}
    env.update({"COMPTOIR_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
                "COMPTOIR_VAR_DIR": str(tmp_path / "var"), "COMPTOIR_LOG_LEVEL": "warning",
                "COMPTOIR_SECRET_KEY": "serve-workers-test-" + "x" * 32})
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "comptoir", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        answered = 0
        while time.monotonic() < deadline and answered < 20:
            if server.poll() is not None:
                pytest.fail((tmp_path / "serve.log").read_text()[-3000:])
            try:  # a new connection each time: the kernel spreads them over the workers
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    answered += 1
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered == 20, (tmp_path / "serve.log").read_text()[-3000:]
        workers = _workers(server.pid)
        assert len(workers) == 2, f"expected two worker processes, found {workers}"
        # One listening socket per worker (SO_REUSEPORT), so the kernel balances the
        # connections between them; a single shared socket lets one worker take most.
        assert _listening_sockets(port) == 2

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists() or "Z" in (
                Path(f"/proc/{pid}/stat").read_text().split()[2]), f"worker {pid} outlived"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
