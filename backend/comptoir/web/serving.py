"""Serving an ASGI app with uvicorn on several processes that share the load evenly.

uvicorn's own ``--workers`` has every process accept from one shared socket: the kernel
wakes whichever process is idle first, so under load one busy process ends up with most
keep-alive connections while the other cores wait (measured: one worker at 80 % of a core,
the other nearly idle, with 32 clients). Here each process binds its own socket to the same
address with SO_REUSEPORT, and the kernel spreads new connections over them by their
address hash. Where SO_REUSEPORT does not exist, uvicorn's own supervisor is used.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any

import uvicorn

__all__ = ["run"]

RESTART_PAUSE_SECONDS = 1.0


def run(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the ASGI app named ``app`` ("module:attribute") on ``host:port`` with
    ``workers`` processes; ``options`` are uvicorn's (``factory``, ``log_level``,
    ``app_dir``…)."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, host=host, port=port, workers=workers, **options)
        return
    _listening_socket(host, port).close()  # fail here, once, if the address is taken
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(app, host, port, options),
                                  name="comptoir-worker")
        process.start()
        return process

    processes = [start() for _ in range(workers)]

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive():
                process.terminate()  # each worker shuts down gracefully (uvicorn's handler)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        for index, process in enumerate(processes):
            if not process.is_alive() and not stopping:
                # A worker that died (a crash, the OOM killer) is replaced.
                print(f"worker {process.pid} exited ({process.exitcode}); starting another",
                      file=sys.stderr, flush=True)
                time.sleep(RESTART_PAUSE_SECONDS)
                processes[index] = start()
        time.sleep(0.2)
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()


def _listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    options = dict(options)
    app_dir = options.pop("app_dir", None)
    if app_dir is not None:
        sys.path.insert(0, app_dir)
    sock = _listening_socket(host, port)
    config = uvicorn.Config(app, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])
