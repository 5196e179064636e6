"""CLI test helpers: run ``comptoir`` in a child process, and databases of its own for it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ADMIN_DATABASE_URL
from tests.support import own_database

COMMAND_TIMEOUT_SECONDS = 180


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]


async def run_comptoir(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Run:
    """``comptoir ARGS`` as a user types it, with the test run's environment plus ``env``."""
    environ = {**os.environ, **(env or {})}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "comptoir", *args,
        env=environ, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


@asynccontextmanager
async def scratch_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database nobody else uses: a SQLite file, or a new PostgreSQL
    database on the test server (dropped afterwards)."""
    async with own_database(tmp_path, "scratch",
                            None if kind == "sqlite" else ADMIN_DATABASE_URL) as url:
        yield url
