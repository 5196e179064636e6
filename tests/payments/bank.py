"""A sandbox bank process of a test's own: started on a free port with its SQLite file,
killed with SIGKILL, started again on the same file."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

__all__ = ["BankProcess", "until"]

REPO = Path(__file__).resolve().parents[2]
READY_SECONDS = 30


@dataclass
class BankProcess:
    url: str
    db: Path
    log: Path
    process: asyncio.subprocess.Process | None = None

    @classmethod
    def in_directory(cls, directory: Path) -> BankProcess:
        return cls(url=f"http://127.0.0.1:{free_port()}", db=directory / "bank.db",
                   log=directory / "bank.log")

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "comptoir.payments.sandbox_bank",
                "--port", self.url.rsplit(":", 1)[1], "--db", str(self.db),
                cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=out, stderr=asyncio.subprocess.STDOUT)
        await until(self._ready, lambda: f"the bank at {self.url} is not ready:\n"
                    + self.log.read_text(errors="replace")[-3000:])

    async def _ready(self) -> bool:
        assert self.process is not None
        if self.process.returncode is not None:
            pytest.fail(f"the bank exited with {self.process.returncode}:\n"
                        + self.log.read_text(errors="replace")[-3000:])
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"{self.url}/health")).status_code == 200
        except httpx.TransportError:
            return False

    async def kill(self) -> None:
        """SIGKILL: nothing it had not committed survives."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


async def until(condition: Callable[[], Awaitable[bool]], failure: Callable[[], str],
                seconds: float = READY_SECONDS) -> None:
    """Until ``condition()`` holds; the test fails with ``failure()`` after ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                if await condition():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(failure())
