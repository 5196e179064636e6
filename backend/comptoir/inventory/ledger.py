"""The stock ledger: every change of on_hand is a movement, and on_hand equals their sum.

Receipts, adjustments, counts and sales change on_hand with one conditional UPDATE each (or
a locked read, for a count), so on_hand never goes below what orders reserved; each change
records an ``inventory.changed`` event with the level as it now stands.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.catalog import service as catalog
from comptoir.config import service as config
from comptoir.db.base import utcnow
from comptoir.db.dialect import dialect_of
from comptoir.errors import Conflict, InvalidInput
from comptoir.events.service import record_event
from comptoir.events.types import EventType
from comptoir.inventory.models import MOVEMENT_KINDS, InventoryLevel, InventoryMovement

__all__ = [
    "MAX_ON_HAND",
    "MAX_QUANTITY",
    "adjust",
    "check_quantity",
    "consume_reservation",
    "count",
    "ensure_level",
    "get_level",
    "receive_stock",
    "set_safety_stock",
]


# Stock columns are 32-bit integers: refuse what they cannot hold with a sentence, not a
# database error.
MAX_QUANTITY = 100_000_000


MAX_ON_HAND = 1_000_000_000


def check_quantity(value: int, what: str) -> None:
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
    await session.execute(
        dialect_of(session).insert(InventoryLevel)
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
    check_quantity(delta, "An adjustment")
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
    check_quantity(on_hand, "A count")
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
    check_quantity(safety_stock, "A safety stock")
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
        check_quantity(units, "A receipt")
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
    insert = dialect_of(session).insert
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
