"""Calls that arrive together share one round trip: group commit, in the application.

A ``Coalescer`` runs one batch at a time. The first call runs at once, alone; calls that
arrive while a batch is at the database wait, and all of them go together in the next
batch (up to ``limit``; two calls whose ``keys`` meet never share a batch, the second
waits for the following one). At low load nothing waits longer than its own round trip;
at high load one statement serves many callers, which is how a busy server spends less per
call instead of queueing on per-statement costs.

The batch function returns one result per item, in order; an exception it raises is every
caller's. A caller cancelled while waiting is left out of the batch (or, when its batch was
already running, its result is dropped).

Admission: a coalescer may bound its queue (``max_waiting``: a call beyond it is refused at
once) and the time a call waits for its batch to start (``max_wait``: it is then withdrawn).
Both refusals raise ``Saturated`` before anything of the call ran, so the caller can answer
"try again" without having done anything. Once its batch has started, a call always waits for
its result: what the batch did (an order written) must reach its caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

__all__ = ["Coalescer", "Saturated"]

T = TypeVar("T")
R = TypeVar("R")


def _no_keys(_item: object) -> Iterable[Hashable]:
    return ()


class Saturated(Exception):
    """The call was refused or withdrawn before it ran: too many waiting, or waited too long."""

    def __init__(self, message: str, *, waiting: int) -> None:
        super().__init__(message)
        self.waiting = waiting


class Coalescer(Generic[T, R]):
    """Batches concurrent ``submit`` calls of one event loop into calls of ``run``."""

    def __init__(
        self,
        run: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        limit: int = 32,
        keys: Callable[[T], Iterable[Hashable]] = _no_keys,
        max_waiting: int | None = None,
        max_wait: float | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError("a batch holds at least one item")
        self._run = run
        self._limit = limit
        self._keys = keys
        self.max_waiting = max_waiting
        self.max_wait = max_wait
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # batches run so far, and the items they held (for reports and tests)
        self.items = 0

    @property
    def waiting(self) -> int:
        """Calls waiting for a batch to start."""
        return len(self._waiting)

    async def submit(self, item: T) -> R:
        if self.max_waiting is not None and len(self._waiting) >= self.max_waiting:
            raise Saturated(f"{len(self._waiting)} calls are waiting already",
                            waiting=len(self._waiting))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        entry = (item, future)
        self._waiting.append(entry)
        if self._task is None:
            self._task = loop.create_task(self._drain())
        if self.max_wait is None:
            return await future
        try:
            done, _pending = await asyncio.wait((future,), timeout=self.max_wait)
        except asyncio.CancelledError:
            future.cancel()  # left out of its batch, or its result dropped
            raise
        if not done and any(waiting is entry for waiting in self._waiting):
            # Not taken into a batch yet: withdrawn, nothing of it ran.
            self._waiting = [waiting for waiting in self._waiting if waiting is not entry]
            future.cancel()
            raise Saturated(f"waited {self.max_wait:g} s for a batch",
                            waiting=len(self._waiting))
        return await future  # its batch runs (or ran): its result is owed to the caller

    def _next_batch(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        held: list[tuple[T, asyncio.Future[R]]] = []
        taken: set[Hashable] = set()
        for item, future in self._waiting:
            if future.done():  # its caller was cancelled while it waited
                continue
            keys = set(self._keys(item))
            if len(batch) >= self._limit or not taken.isdisjoint(keys):
                held.append((item, future))
                continue
            taken |= keys
            batch.append((item, future))
        self._waiting = held
        return batch

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._next_batch()
                if not batch:
                    continue
                self.batches += 1
                self.items += len(batch)
                try:
                    results = await self._run([item for item, _future in batch])
                    if len(results) != len(batch):
                        raise RuntimeError(f"a batch of {len(batch)} gave {len(results)} results")
                except asyncio.CancelledError:
                    for _item, future in batch:
                        future.cancel()
                    raise
                except Exception as error:  # every caller of the batch gets it
                    for _item, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_item, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._task = None
            for _item, future in self._waiting:  # only when cancelled (shutdown)
                future.cancel()
            self._waiting = []
