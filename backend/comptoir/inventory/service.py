"""Stock rules: movements keep on_hand equal to the ledger; reservations never oversell.

Every change is one conditional UPDATE checked by its row count, so two requests racing for
the last unit cannot both win, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.catalog import service as catalog
from comptoir.catalog.models import Variant
from comptoir.config import service as config
from comptoir.db.base import DateTimeUTC, utcnow
from comptoir.db.coalesce import Coalescer
from comptoir.db.engine import batch_engine, is_postgres, limits
from comptoir.errors import Conflict, InvalidInput, NotFound
from comptoir.events.service import record_event
from comptoir.events.types import EventType
from comptoir.inventory.models import MOVEMENT_KINDS, InventoryLevel, InventoryMovement

__all__ = [
    "MAX_ON_HAND",
    "MAX_QUANTITY",
    "SellableVariant",
    "adjust",
    "consume_reservation",
    "count",
    "ensure_level",
    "get_level",
    "list_levels",
    "list_movements",
    "list_stock_outs",
    "receive_stock",
    "release",
    "reserve",
    "reserve_all",
    "reserve_all_params",
    "reserve_ctes",
    "set_safety_stock",
    "variants_with_availability",
]


# Stock columns are 32-bit integers: refuse what they cannot hold with a sentence, not a
# database error.
MAX_QUANTITY = 100_000_000
MAX_ON_HAND = 1_000_000_000


def _check_quantity(value: int, what: str) -> None:
    if abs(value) > MAX_QUANTITY:
        raise InvalidInput(f"{what} of {value} units is more than Comptoir accepts at once "
                           f"({MAX_QUANTITY}).", code="quantity_too_large")


def _check_text(reason: str, reference: str | None = None) -> None:
    if len(reason) > 200:
        raise InvalidInput("A reason is at most 200 characters.", code="text_too_long",
                           field="reason")
    if reference is not None and len(reference) > 80:
        raise InvalidInput("A reference is at most 80 characters.", code="text_too_long",
                           field="reference")


async def _check_sku_and_location(session: AsyncSession, sku: str, location: str) -> None:
    if await config.get_location(location) is None:
        raise InvalidInput(f"Unknown location '{location}'.", code="unknown_location")
    if not await catalog.sku_exists(session, sku):
        raise InvalidInput(f"Unknown SKU '{sku}'.", code="unknown_sku")


async def ensure_level(session: AsyncSession, sku: str, location: str) -> None:
    """Make sure the (sku, location) level row exists, without racing another creator."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    await session.execute(
        insert(InventoryLevel)
        .values(id=uuid.uuid4(), sku=sku, location=location, on_hand=0, reserved=0,
                safety_stock=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["sku", "location"])
    )


async def get_level(session: AsyncSession, sku: str, location: str) -> InventoryLevel | None:
    level: InventoryLevel | None = await session.scalar(
        select(InventoryLevel)
        .where(InventoryLevel.sku == sku, InventoryLevel.location == location)
        .execution_options(populate_existing=True)
    )
    return level


async def _level_changed(
    session: AsyncSession, level: InventoryLevel, actor: str, movement: InventoryMovement | None
) -> None:
    data = {
        "sku": level.sku,
        "location": level.location,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "safety_stock": level.safety_stock,
        "available": level.available,
    }
    if movement is not None:
        data.update(kind=movement.kind, quantity=movement.quantity, reason=movement.reason)
    await record_event(
        session, topic="inventory", type=EventType.INVENTORY_CHANGED,
        subject=f"{level.sku}@{level.location}", data=data, actor=actor,
    )


async def adjust(
    session: AsyncSession,
    *,
    sku: str,
    location: str,
    delta: int,
    reason: str,
    actor: str,
    kind: str = "adjustment",
    reference: str | None = None,
) -> tuple[InventoryLevel, InventoryMovement]:
    """Add ``delta`` (positive or negative) to on_hand and record it in the ledger."""
    if kind not in MOVEMENT_KINDS:
        raise InvalidInput(f"Unknown movement kind '{kind}'.", code="unknown_movement_kind")
    if delta == 0:
        raise InvalidInput("An adjustment of 0 changes nothing.", code="zero_delta")
    _check_quantity(delta, "An adjustment")
    _check_text(reason, reference)
    await _check_sku_and_location(session, sku, location)
    await ensure_level(session, sku, location)
    result = await session.execute(
        update(InventoryLevel)
        .where(
            InventoryLevel.sku == sku,
            InventoryLevel.location == location,
            InventoryLevel.on_hand + delta >= InventoryLevel.reserved,
            InventoryLevel.on_hand + delta >= 0,
            InventoryLevel.on_hand + delta <= MAX_ON_HAND,
        )
        .values(on_hand=InventoryLevel.on_hand + delta, updated_at=utcnow())
        .returning(InventoryLevel.on_hand)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    if row is None:
        level = await get_level(session, sku, location)
        assert level is not None
        if level.on_hand + delta > MAX_ON_HAND:
            raise Conflict(f"{sku} at {location}: more than {MAX_ON_HAND} units on hand is "
                           "beyond what Comptoir counts.", code="quantity_too_large")
        if level.on_hand + delta < 0:
            raise Conflict(
                f"{sku} at {location}: on hand is {level.on_hand}; removing {-delta} would make "
                "it negative.",
                code="negative_stock", on_hand=level.on_hand,
            )
        raise Conflict(
            f"{sku} at {location}: {level.reserved} of the {level.on_hand} on hand are reserved "
            f"for orders; on hand cannot go below that.",
            code="stock_reserved", on_hand=level.on_hand, reserved=level.reserved,
        )
    movement = InventoryMovement(
        sku=sku, location=location, kind=kind, quantity=delta, on_hand_after=row.on_hand,
        reason=reason, reference=reference, actor=actor,
    )
    session.add(movement)
    level = await get_level(session, sku, location)
    assert level is not None
    await _level_changed(session, level, actor, movement)
    return level, movement


async def count(
    session: AsyncSession, *, sku: str, location: str, on_hand: int, actor: str, reason: str = ""
) -> tuple[InventoryLevel, InventoryMovement | None]:
    """Record a physical count: the difference from the books becomes a ``count`` movement."""
    if on_hand < 0:
        raise InvalidInput("A count cannot be negative.", code="negative_count")
    _check_quantity(on_hand, "A count")
    _check_text(reason)
    await _check_sku_and_location(session, sku, location)
    await ensure_level(session, sku, location)
    # Lock the row (PostgreSQL; SQLite already holds its write lock) so the difference we
    # compute is the one we apply.
    level = await session.scalar(
        select(InventoryLevel)
        .where(InventoryLevel.sku == sku, InventoryLevel.location == location)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert level is not None
    delta = on_hand - level.on_hand
    if delta == 0:
        return level, None
    if on_hand < level.reserved:
        raise Conflict(
            f"{sku} at {location}: {level.reserved} units are reserved for orders; a count of "
            f"{on_hand} needs those orders re-allocated first.",
            code="stock_reserved", on_hand=level.on_hand, reserved=level.reserved,
        )
    level.on_hand = on_hand
    level.updated_at = utcnow()
    movement = InventoryMovement(
        sku=sku, location=location, kind="count", quantity=delta, on_hand_after=on_hand,
        reason=reason or "stock count", actor=actor,
    )
    session.add(movement)
    await session.flush()
    await _level_changed(session, level, actor, movement)
    return level, movement


async def set_safety_stock(
    session: AsyncSession, *, sku: str, location: str, safety_stock: int, actor: str
) -> InventoryLevel:
    if safety_stock < 0:
        raise InvalidInput("Safety stock cannot be negative.", code="negative_safety_stock")
    _check_quantity(safety_stock, "A safety stock")
    await _check_sku_and_location(session, sku, location)
    await ensure_level(session, sku, location)
    await session.execute(
        update(InventoryLevel)
        .where(InventoryLevel.sku == sku, InventoryLevel.location == location)
        .values(safety_stock=safety_stock, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    level = await get_level(session, sku, location)
    assert level is not None
    await _level_changed(session, level, actor, None)
    return level


async def reserve(session: AsyncSession, *, sku: str, location: str, quantity: int) -> bool:
    """Reserve ``quantity`` units if that many are available; False (nothing changed) if not."""
    if quantity <= 0:
        raise InvalidInput("A reservation is for at least one unit.", code="invalid_quantity")
    result = await session.execute(
        update(InventoryLevel)
        .where(
            InventoryLevel.sku == sku,
            InventoryLevel.location == location,
            InventoryLevel.on_hand - InventoryLevel.reserved - InventoryLevel.safety_stock
            >= quantity,
        )
        .values(reserved=InventoryLevel.reserved + quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def release(session: AsyncSession, *, sku: str, location: str, quantity: int) -> None:
    """Give back ``quantity`` reserved units; refusing to release more than is reserved."""
    if quantity <= 0:
        raise InvalidInput("A release is for at least one unit.", code="invalid_quantity")
    result = await session.execute(
        update(InventoryLevel)
        .where(
            InventoryLevel.sku == sku,
            InventoryLevel.location == location,
            InventoryLevel.reserved >= quantity,
        )
        .values(reserved=InventoryLevel.reserved - quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            f"{sku} at {location}: fewer than {quantity} units are reserved.",
            code="reservation_mismatch",
        )


async def consume_reservation(
    session: AsyncSession, sku: str, location: str, quantity: int, actor: str,
    reference: str | None = None,
) -> InventoryLevel:
    """Reserved units leave the building (shipped, handed over): reserved and on_hand both
    drop by ``quantity`` in one conditional UPDATE, and a ``sale`` movement joins the ledger."""
    if quantity <= 0:
        raise InvalidInput("A sale is for at least one unit.", code="invalid_quantity")
    row = (await session.execute(
        update(InventoryLevel)
        .where(
            InventoryLevel.sku == sku,
            InventoryLevel.location == location,
            InventoryLevel.reserved >= quantity,
            InventoryLevel.on_hand >= quantity,
        )
        .values(reserved=InventoryLevel.reserved - quantity,
                on_hand=InventoryLevel.on_hand - quantity, updated_at=utcnow())
        .returning(InventoryLevel.on_hand)
        .execution_options(synchronize_session=False)
    )).first()
    if row is None:
        raise Conflict(f"{sku} at {location}: fewer than {quantity} units are reserved.",
                       code="reservation_mismatch")
    movement = InventoryMovement(
        sku=sku, location=location, kind="sale", quantity=-quantity, on_hand_after=row.on_hand,
        reason="sold", reference=reference, actor=actor,
    )
    session.add(movement)
    level = await get_level(session, sku, location)
    assert level is not None
    await _level_changed(session, level, actor, movement)
    return level


async def availability(
    session: AsyncSession, skus: Sequence[str]
) -> dict[str, dict[str, int]]:
    """``{sku: {location: available}}`` for the given SKUs (levels with stock only)."""
    rows = await session.execute(
        select(
            InventoryLevel.sku,
            InventoryLevel.location,
            InventoryLevel.on_hand - InventoryLevel.reserved - InventoryLevel.safety_stock,
        ).where(InventoryLevel.sku.in_(list(skus)))
    )
    out: dict[str, dict[str, int]] = {sku: {} for sku in skus}
    for sku, location, available in rows:
        out[sku][location] = max(0, int(available))
    return out


@dataclass(frozen=True, slots=True)
class SellableVariant:
    """What selling a variant needs to know of it (read without loading the ORM entity)."""

    sku: str
    name: str
    price: int
    currency: str
    active: bool


_AVAILABLE = (InventoryLevel.on_hand - InventoryLevel.reserved
              - InventoryLevel.safety_stock).label("available")
_VARIANTS_WITH_STOCK = (
    select(Variant.sku, Variant.name, Variant.price, Variant.currency, Variant.active,
           InventoryLevel.location, _AVAILABLE)
    .outerjoin(InventoryLevel, InventoryLevel.sku == Variant.sku)
)


_VARIANTS_WITH_STOCK_PG = text(
    "SELECT v.sku, v.name, v.price, v.currency, v.active, l.location, "
    "l.on_hand - l.reserved - l.safety_stock AS available "
    "FROM variants v LEFT JOIN inventory_levels l ON l.sku = v.sku "
    "WHERE v.sku = ANY(CAST(:skus AS varchar[]))")


async def variants_with_availability(
    session: AsyncSession, skus: Sequence[str]
) -> tuple[dict[str, SellableVariant], dict[str, dict[str, int]]]:
    """The variants of ``skus`` that exist, and ``{sku: {location: available}}``, in one query.

    Order capture reads both for every order; one round trip instead of two, and plain rows
    rather than ORM entities (this runs at every capture).
    """
    wanted = sorted(set(skus))
    rows: Result[Any]
    if is_postgres(session):
        # A ready text: one statement whatever the number of SKUs, prepared once per
        # connection, with nothing for SQLAlchemy to compile or key at each capture.
        rows = await (await session.connection()).execute(_VARIANTS_WITH_STOCK_PG,
                                                          {"skus": wanted})
    else:
        rows = await session.execute(_VARIANTS_WITH_STOCK.where(Variant.sku.in_(wanted)))
    return _variants_and_stock(rows)


def _variants_and_stock(
    rows: Iterable[Any],
) -> tuple[dict[str, SellableVariant], dict[str, dict[str, int]]]:
    variants: dict[str, SellableVariant] = {}
    stock: dict[str, dict[str, int]] = {}
    for sku, name, price, currency, active, location, available in rows:
        if sku not in variants:
            variants[sku] = SellableVariant(sku, name, price, currency, active)
        levels = stock.setdefault(sku, {})
        if location is not None:
            levels[location] = max(0, int(available))
    return variants, stock


VariantsAndStock = tuple[dict[str, SellableVariant], dict[str, dict[str, int]]]

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


def forget_recent_reads(events: Sequence[Any] = (), _database: Any = None) -> None:
    """Event listener (app.py): a committed change other than a capture may change a price or
    a level, so captures read afresh. Called without events: forget everything."""
    if not events or any(event.type != EventType.ORDER_CAPTURED for event in events):
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
                rows = await connection.execute(_VARIANTS_WITH_STOCK_PG, {"skus": wanted})
                variants, stock = _variants_and_stock(rows)
            recent_reads.put(wanted, (variants, stock), started, generation)
            return [({sku: variants[sku] for sku in skus if sku in variants},
                     {sku: stock[sku] for sku in skus if sku in stock}) for skus in asked]

        bounds = limits(engine)
        coalescer = _read_together[engine] = Coalescer(
            read, limit=64, max_waiting=bounds.max_waiting_captures,
            max_wait=bounds.queue_timeout)
    return await coalescer.submit(skus), False


def reserve_ctes(only_if: str = "true") -> str:
    """The reservation of several levels, as common table expressions a statement can hold
    (order capture puts them in its own): they read :skus, :locations, :quantities and :now
    (``reserve_all_params``), lock and reserve nothing unless the SQL ``only_if`` holds, and
    ``reserved`` holds the levels that had the units."""
    return f"""
    wanted AS (
        SELECT * FROM unnest(CAST(:skus AS varchar[]), CAST(:locations AS varchar[]),
                             CAST(:quantities AS integer[])) AS w(sku, location, quantity)
    ), locked AS (
        SELECT l.id, w.quantity FROM inventory_levels l
        JOIN wanted w ON l.sku = w.sku AND l.location = w.location
        WHERE {only_if}
        ORDER BY l.sku, l.location
        FOR UPDATE OF l
    ), reserved AS (
        UPDATE inventory_levels l SET reserved = l.reserved + k.quantity, updated_at = :now
        FROM locked k
        WHERE l.id = k.id AND l.on_hand - l.reserved - l.safety_stock >= k.quantity
        RETURNING l.sku, l.location
    )"""


_RESERVE_PG = text(f"WITH {reserve_ctes()} SELECT sku, location FROM reserved").bindparams(
    bindparam("now", type_=DateTimeUTC(timezone=True)))


def reserve_all_params(
    quantities: Mapping[tuple[str, str], int], now: dt.datetime
) -> dict[str, Any]:
    """The parameters of ``reserve_ctes`` for ``{(sku, location): quantity}``."""
    if any(quantity <= 0 for quantity in quantities.values()):
        raise InvalidInput("A reservation is for at least one unit.", code="invalid_quantity")
    wanted = sorted(quantities.items())
    return {"skus": [sku for (sku, _loc), _q in wanted],
            "locations": [loc for (_sku, loc), _q in wanted],
            "quantities": [q for _key, q in wanted], "now": now}


async def reserve_all(
    session: AsyncSession, quantities: Mapping[tuple[str, str], int]
) -> set[tuple[str, str]]:
    """Reserve each ``(sku, location): quantity`` that is available; the levels that were.

    All or nothing is the caller's: when fewer levels come back than were asked, it rolls
    its transaction back. On PostgreSQL one statement locks the levels in (sku, location)
    order, so two captures never wait for each other in opposite orders, then applies the
    conditional update to each; SQLite, one writer at a time, takes them one by one.
    """
    params = reserve_all_params(quantities, utcnow())
    if is_postgres(session):
        rows = await session.execute(_RESERVE_PG, params)
        return {(sku, location) for sku, location in rows}
    wanted = sorted(quantities.items())
    done = set()
    for (sku, location), quantity in wanted:
        if await reserve(session, sku=sku, location=location, quantity=quantity):
            done.add((sku, location))
    return done


async def list_levels(
    session: AsyncSession,
    *,
    sku: str | None = None,
    location: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 100,
) -> list[InventoryLevel]:
    """Levels ordered by (sku, location), keyset-paginated from ``after``."""
    query = select(InventoryLevel)
    if sku is not None:
        query = query.where(InventoryLevel.sku == sku)
    return await _levels_page(session, query, location, after, limit)


async def _levels_page(
    session: AsyncSession, query: Select[tuple[InventoryLevel]], location: str | None,
    after: tuple[str, str] | None, limit: int,
) -> list[InventoryLevel]:
    """``query``'s levels at ``location`` (or everywhere), by (sku, location), after ``after``."""
    if location is not None:
        query = query.where(InventoryLevel.location == location)
    if after is not None:
        query = query.where(
            (InventoryLevel.sku > after[0])
            | and_(InventoryLevel.sku == after[0], InventoryLevel.location > after[1])
        )
    result = await session.scalars(
        query.order_by(InventoryLevel.sku, InventoryLevel.location).limit(limit)
    )
    return list(result)


async def list_movements(
    session: AsyncSession,
    sku: str,
    *,
    location: str | None = None,
    before: uuid.UUID | None = None,
    limit: int = 100,
) -> list[InventoryMovement]:
    """A SKU's movements, newest first, keyset-paginated by id (ids are time-ordered)."""
    if not await catalog.sku_exists(session, sku):
        raise NotFound(f"Unknown SKU '{sku}'.", code="unknown_sku")
    query = select(InventoryMovement).where(InventoryMovement.sku == sku)
    if location is not None:
        query = query.where(InventoryMovement.location == location)
    if before is not None:
        query = query.where(InventoryMovement.id < before)
    result = await session.scalars(query.order_by(InventoryMovement.id.desc()).limit(limit))
    return list(result)


async def receive_stock(
    session: AsyncSession,
    lines: Sequence[tuple[str, str, int]],
    *,
    actor: str,
    reason: str,
    reference: str | None = None,
) -> list[InventoryLevel]:
    """Receive many ``(sku, location, units)`` lines at once: a delivery, or opening stock.

    Each line records what ``adjust(kind="receipt")`` does (on_hand grows, a ``receipt``
    movement joins the ledger, ``inventory.changed`` is recorded), in a few statements for
    the whole batch instead of several per line. Refused whole if any line is wrong.
    """
    _check_text(reason, reference)
    pairs: set[tuple[str, str]] = set()
    for sku, location, units in lines:
        if units <= 0:
            raise InvalidInput(f"{sku} at {location}: a receipt is for at least one unit.",
                               code="invalid_quantity", sku=sku, location=location)
        _check_quantity(units, "A receipt")
        if (sku, location) in pairs:
            raise InvalidInput(f"{sku} at {location} appears twice in one receipt.",
                               code="duplicate_line", sku=sku, location=location)
        pairs.add((sku, location))
    if not pairs:
        return []
    locations = sorted({location for _sku, location in pairs})
    for location in locations:
        if await config.get_location(location) is None:
            raise InvalidInput(f"Unknown location '{location}'.", code="unknown_location")
    skus = sorted({sku for sku, _location in pairs})
    known = await catalog.variants_by_sku(session, skus)
    for sku in skus:
        if sku not in known:
            raise InvalidInput(f"Unknown SKU '{sku}'.", code="unknown_sku")
    now = utcnow()
    insert = pg_insert if is_postgres(session) else sqlite_insert
    batch = sorted(lines)
    for start in range(0, len(batch), 500):  # well under SQLite's bound-parameter limit
        await session.execute(
            insert(InventoryLevel)
            .values([
                {"id": uuid.uuid4(), "sku": sku, "location": location, "on_hand": 0,
                 "reserved": 0, "safety_stock": 0, "updated_at": now}
                for sku, location, _units in batch[start:start + 500]
            ])
            .on_conflict_do_nothing(index_elements=["sku", "location"])
        )
    # Lock the levels (PostgreSQL; SQLite already holds its write lock) so the totals we
    # compute are the ones we write.
    levels: dict[tuple[str, str], InventoryLevel] = {}
    for start in range(0, len(skus), 500):
        result = await session.scalars(
            select(InventoryLevel)
            .where(InventoryLevel.sku.in_(skus[start:start + 500]),
                   InventoryLevel.location.in_(locations))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        levels.update({(level.sku, level.location): level for level in result})
    received = []
    for sku, location, units in batch:
        level = levels[(sku, location)]
        if level.on_hand + units > MAX_ON_HAND:
            raise Conflict(f"{sku} at {location}: more than {MAX_ON_HAND} units on hand is "
                           "beyond what Comptoir counts.", code="quantity_too_large")
        level.on_hand += units
        level.updated_at = now
        movement = InventoryMovement(
            sku=sku, location=location, kind="receipt", quantity=units,
            on_hand_after=level.on_hand, reason=reason, reference=reference, actor=actor,
        )
        session.add(movement)
        await _level_changed(session, level, actor, movement)
        received.append(level)
    await session.flush()
    return received


async def list_stock_outs(
    session: AsyncSession,
    *,
    location: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 100,
) -> list[InventoryLevel]:
    """Levels with nothing left to promise: on hand, less what is reserved, is at or below the
    safety stock (``available`` is 0). Ordered by (sku, location), keyset-paginated."""
    query = select(InventoryLevel).where(
        InventoryLevel.on_hand - InventoryLevel.reserved - InventoryLevel.safety_stock <= 0)
    return await _levels_page(session, query, location, after, limit)
