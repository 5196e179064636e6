"""Inventory endpoints: stock levels, adjustments, counts, safety stock and the ledger."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import MANAGERS, STAFF, allow
from comptoir.auth.schemas import Principal
from comptoir.catalog import service as catalog
from comptoir.config import service as config
from comptoir.errors import Forbidden, InvalidInput
from comptoir.idempotency import IdempotencyKeyHeader, answer_once
from comptoir.inventory import service
from comptoir.inventory.models import InventoryLevel, InventoryMovement
from comptoir.inventory.schemas import (
    ADJUSTMENT_KINDS,
    AdjustmentIn,
    CountIn,
    LevelOut,
    LevelPage,
    MovementOut,
    MovementPage,
    SafetyStockIn,
    SkuAvailableOut,
    StockChangeOut,
)
from comptoir.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)

__all__ = ["InventoryController", "level_out", "movement_out"]

MAX_SKUS = 100  # SKUs asked about in one availability call (a few pages of search results)


def level_out(level: InventoryLevel) -> LevelOut:
    return LevelOut(sku=level.sku, location=level.location, on_hand=level.on_hand,
                    reserved=level.reserved, safety_stock=level.safety_stock,
                    available=level.available)


def movement_out(m: InventoryMovement) -> MovementOut:
    return MovementOut(id=m.id, sku=m.sku, location=m.location, kind=m.kind, quantity=m.quantity,
                       on_hand_after=m.on_hand_after, reason=m.reason, reference=m.reference,
                       actor=m.actor, created_at=m.created_at)


def _check_may_change_stock_at(principal: Principal, location: str) -> None:
    """Managers change stock anywhere; an associate only at their own location."""
    if principal.role == "associate" and principal.location != location:
        raise Forbidden(
            f"You may change stock only at your own location ({principal.location}), "
            f"not at {location}.",
            code="other_location", location=location,
        )


async def _check_location_filter(location: str | None) -> None:
    if location is not None and await config.get_location(location) is None:
        raise InvalidInput(f"Unknown location '{location}'.", code="unknown_location")


class InventoryController(Controller):
    """Staff (and API keys with a staff role) only. Writes: managers anywhere, an associate at
    their own location. Channel keys have no access: they see stock through availability."""

    path = "/api/inventory"
    tags = ["inventory"]

    @get("/", opt=allow(STAFF), summary="Stock levels per SKU and location")
    async def list_levels(
        self,
        db_session: AsyncSession,
        sku: str | None = Parameter(default=None, max_length=200),
        location: str | None = Parameter(default=None, max_length=200),
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> LevelPage:
        await _check_location_filter(location)
        if sku is not None and not await catalog.sku_exists(db_session, sku):
            raise InvalidInput(f"Unknown SKU '{sku}'.", code="unknown_sku")
        after = decode_cursor(cursor, 2) if cursor else None
        levels = await service.list_levels(
            db_session, sku=sku, location=location,
            after=(after[0], after[1]) if after else None, limit=limit + 1,
        )
        next_cursor = None
        if len(levels) > limit:
            levels = levels[:limit]
            next_cursor = encode_cursor(levels[-1].sku, levels[-1].location)
        return LevelPage(items=[level_out(lv) for lv in levels], next_cursor=next_cursor)

    @get("/available", opt=allow(STAFF), summary="What some SKUs have to promise, in one call")
    async def list_available(
        self,
        db_session: AsyncSession,
        sku: list[str] = Parameter(min_items=1, max_items=MAX_SKUS),
    ) -> list[SkuAvailableOut]:
        """Per SKU (in the order asked), its available units per location and in all, e.g.
        for a page of search results; an unknown SKU has none. Live: ``inventory:<sku>``."""
        if any(len(one) > 200 for one in sku):
            raise InvalidInput("A SKU has at most 200 characters.", code="invalid_sku")
        stock = await service.availability(db_session, list(dict.fromkeys(sku)))
        return [SkuAvailableOut(sku=one, available=sum(stock[one].values()),
                                locations=stock[one]) for one in dict.fromkeys(sku)]

    @get("/outs", opt=allow(MANAGERS), summary="Stock-outs: levels with nothing to promise")
    async def list_stock_outs(
        self,
        db_session: AsyncSession,
        location: str | None = Parameter(default=None, max_length=200),
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> LevelPage:
        """Levels whose ``available`` is 0: nothing on hand beyond what is reserved and the
        safety stock. Live: ``inventory`` events on ``/ws`` say when a level enters or leaves."""
        await _check_location_filter(location)
        after = decode_cursor(cursor, 2) if cursor else None
        levels = await service.list_stock_outs(
            db_session, location=location, after=(after[0], after[1]) if after else None,
            limit=limit + 1,
        )
        next_cursor = None
        if len(levels) > limit:
            levels = levels[:limit]
            next_cursor = encode_cursor(levels[-1].sku, levels[-1].location)
        return LevelPage(items=[level_out(lv) for lv in levels], next_cursor=next_cursor)

    @post("/adjustments", opt=allow(STAFF),
          summary="Add or remove units (receipt, adjustment, return, transfer)")
    async def adjust(
        self, db_session: AsyncSession, principal: Principal, data: AdjustmentIn,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[StockChangeOut]:
        """With an Idempotency-Key, a repeat is answered as the first time, not applied."""
        _check_may_change_stock_at(principal, data.location)
        if data.kind not in ADJUSTMENT_KINDS:
            raise InvalidInput(
                f"'{data.kind}' is not a kind of adjustment; use one of "
                f"{', '.join(ADJUSTMENT_KINDS)}.",
                code="unknown_movement_kind", allowed=list(ADJUSTMENT_KINDS),
            )
        if not data.reason.strip():
            raise InvalidInput("Say why the stock changes (a reason is required).",
                               code="reason_required")

        async def apply() -> StockChangeOut:
            level, movement = await service.adjust(
                db_session, sku=data.sku, location=data.location, delta=data.delta,
                reason=data.reason.strip(), actor=principal.actor, kind=data.kind,
                reference=(data.reference or "").strip() or None,
            )
            return StockChangeOut(level=level_out(level), movement=movement_out(movement))

        return await answer_once(db_session, principal, idempotency_key,
                                 action="POST /api/inventory/adjustments", data=data,
                                 answer_type=StockChangeOut, status_code=201, apply=apply)

    @post("/counts", opt=allow(STAFF), summary="Record a physical count")
    async def count(
        self, db_session: AsyncSession, principal: Principal, data: CountIn,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[StockChangeOut]:
        _check_may_change_stock_at(principal, data.location)

        async def apply() -> StockChangeOut:
            level, movement = await service.count(
                db_session, sku=data.sku, location=data.location, on_hand=data.on_hand,
                actor=principal.actor, reason=data.reason.strip(),
            )
            return StockChangeOut(level=level_out(level),
                                  movement=movement_out(movement) if movement else None)

        return await answer_once(db_session, principal, idempotency_key,
                                 action="POST /api/inventory/counts", data=data,
                                 answer_type=StockChangeOut, status_code=201, apply=apply)

    @post("/safety-stock", opt=allow(STAFF), status_code=200,
          summary="Set the units kept back from orders at a location")
    async def set_safety_stock(
        self, db_session: AsyncSession, principal: Principal, data: SafetyStockIn,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[LevelOut]:
        _check_may_change_stock_at(principal, data.location)

        async def apply() -> LevelOut:
            return level_out(await service.set_safety_stock(
                db_session, sku=data.sku, location=data.location,
                safety_stock=data.safety_stock, actor=principal.actor,
            ))

        return await answer_once(db_session, principal, idempotency_key,
                                 action="POST /api/inventory/safety-stock", data=data,
                                 answer_type=LevelOut, status_code=200, apply=apply)

    @get("/{sku:str}/movements", opt=allow(STAFF), summary="A SKU's stock ledger, newest first")
    async def list_movements(
        self,
        db_session: AsyncSession,
        sku: str,
        location: str | None = Parameter(default=None, max_length=200),
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> MovementPage:
        await _check_location_filter(location)
        before = cursor_uuid(decode_cursor(cursor, 1)[0]) if cursor else None
        movements = await service.list_movements(db_session, sku, location=location,
                                                 before=before, limit=limit + 1)
        next_cursor = None
        if len(movements) > limit:
            movements = movements[:limit]
            next_cursor = encode_cursor(movements[-1].id)
        return MovementPage(items=[movement_out(m) for m in movements], next_cursor=next_cursor)
