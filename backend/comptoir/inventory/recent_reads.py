"""What order capture last read of each SKU in this process, and reads shared by captures.

Captures arriving together read their variants and stock in one query (PostgreSQL), and may
route on what this process read a moment ago; the conditional write still decides who gets
the last unit, so neither ever sells a unit twice.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Sequence

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from comptoir.db.coalesce import Coalescer
from comptoir.db.engine import batch_engine, limits
from comptoir.events.models import Event
from comptoir.inventory.reading import (
    VARIANTS_WITH_STOCK_TEXT,
    SellableVariant,
    VariantsAndStock,
    variants_and_stock,
)

__all__ = ["RECENT_READ_SECONDS", "RecentReads", "forget_recent_reads", "recent_reads",
           "variants_with_availability_together"]


# How long a capture may route on what this process read of a SKU: a price or stock change
# made by another process reaches this one's captures within this time at the latest.
RECENT_READ_SECONDS = 2.0


class RecentReads:
    """What order capture last read of each SKU in this process: the variant (None: there is
    no such SKU) and its availability per location, for ``RECENT_READ_SECONDS``.

    Only routing leans on it, and only one way: the capture's write reserves units with the
    conditional update, so a stale "available" costs a refused write and a fresh read, never
    a unit sold twice; and a capture that the recent read would refuse (a SKU unknown or not
    sold, an order routing cannot place) reads afresh before it answers. Any event this
    process commits, but a capture's, empties it (an adjustment, a price, a cancellation);
    changes made by other processes wait for the entries to expire.
    """

    def __init__(self, seconds: float = RECENT_READ_SECONDS) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, SellableVariant | None, dict[str, int]]] = {}
        # Bumped by each clear: a read under way then may have seen the world before the
        # change, so what it brings back is not kept.
        self.generation = 0

    def get(self, skus: Sequence[str]) -> VariantsAndStock | None:
        """Every SKU's recent read, or None when one of them has none."""
        oldest = time.monotonic() - self.seconds
        variants: dict[str, SellableVariant] = {}
        stock: dict[str, dict[str, int]] = {}
        for sku in skus:
            entry = self._entries.get(sku)
            if entry is None or entry[0] < oldest:
                return None
            _at, variant, levels = entry
            if variant is not None:
                variants[sku] = variant
                stock[sku] = levels
        return variants, stock

    def put(self, skus: Iterable[str], read: VariantsAndStock, at: float,
            generation: int) -> None:
        """Keep a read that started at ``at`` (monotonic), in ``generation``."""
        if generation != self.generation:
            return
        variants, stock = read
        for sku in skus:
            self._entries[sku] = (at, variants.get(sku), stock.get(sku, {}))

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


recent_reads = RecentReads()


def forget_recent_reads(events: Sequence[Event] = (), _database: URL | None = None) -> None:
    """Event listener (app.py): a committed change other than a capture may change a price or
    a level, so captures read afresh. Called without events: forget everything."""
    if not events or any(event.type != "order.captured" for event in events):
        recent_reads.clear()


_read_together: weakref.WeakKeyDictionary[
    AsyncEngine, Coalescer[Sequence[str], VariantsAndStock]] = weakref.WeakKeyDictionary()


async def variants_with_availability_together(
    engine: AsyncEngine, skus: Sequence[str], *, recent: bool = False
) -> tuple[VariantsAndStock, bool]:
    """``variants_with_availability`` (PostgreSQL), read with the other captures of this
    process that ask at the same moment: one query, on a connection of the batch engine
    (``db.engine.batch_engine``), for all their SKUs. No fresher or staler than a read of
    its own: it starts after the call. ``Saturated`` when too many wait already.

    ``recent``: this process's recent read will do (``RecentReads``), when it has one of
    every SKU. The flag returned says whether the answer came from there."""
    if recent and (known := recent_reads.get(skus)) is not None:
        return known, True
    coalescer = _read_together.get(engine)
    if coalescer is None:
        reader = batch_engine(engine)

        async def read(asked: Sequence[Sequence[str]]) -> list[VariantsAndStock]:
            wanted = sorted({sku for skus in asked for sku in skus})
            started, generation = time.monotonic(), recent_reads.generation
            async with reader.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                rows = await connection.execute(VARIANTS_WITH_STOCK_TEXT, {"skus": wanted})
                variants, stock = variants_and_stock(rows.tuples())
            recent_reads.put(wanted, (variants, stock), started, generation)
            return [({sku: variants[sku] for sku in skus if sku in variants},
                     {sku: stock[sku] for sku in skus if sku in stock}) for skus in asked]

        bounds = limits(engine)
        coalescer = _read_together[engine] = Coalescer(
            read, limit=64, max_waiting=bounds.max_waiting_captures,
            max_wait=bounds.queue_timeout)
    return await coalescer.submit(skus), False
