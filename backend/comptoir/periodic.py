"""Housekeeping that runs every few minutes from the app's lifespan (sweeps, purges)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from comptoir.tasks import stop_tasks

__all__ = ["Periodic"]

log = logging.getLogger("comptoir.periodic")


class Periodic:
    """Runs ``turn`` every ``interval`` seconds (never when it is 0).

    A failing turn is logged and tried again at the next one: the database may be away for a
    while, and housekeeping never stops the app.
    """

    def __init__(self, name: str, turn: Callable[[], Awaitable[None]], interval: float) -> None:
        self.name = name
        self.turn = turn
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            try:
                await self.turn()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; next try in %s s", self.name, self.interval)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None and self.interval > 0:
            self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            await stop_tasks([self._task])
            self._task = None
