"""Helpers for order tests: request bodies, stock levels, and a snapshot of what is stored."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

ADDRESS = {"name": "Ada Byron", "line1": "3 rue de la Paix", "postal_code": "69001",
           "city": "Lyon", "country": "FR"}


def order_body(*lines: tuple[str, int] | tuple[str, int, int], **overrides: Any) -> dict[str, Any]:
    """A capture body: ``order_body(("TEE", 2), ("CAP", 1, 999), external_ref="X-1")``."""
    body: dict[str, Any] = {
        "currency": "EUR",
        "customer": {"email": "ada@example.fr", "name": "Ada Byron", "phone": "+33612345678"},
        "lines": [
            {"sku": line[0], "quantity": line[1], **({"unit_price": line[2]} if len(line) > 2
                                                     else {})}
            for line in lines
        ],
        "delivery": {"method": "ship", "address": copy.deepcopy(ADDRESS)},
    }
    body.update(overrides)
    return body


def pickup(store: str) -> dict[str, Any]:
    return {"method": "pickup", "location": store}


@pytest.fixture
def level(sessionmaker: Any) -> Callable[[str, str], Any]:
    """``await level("SKU", "WH-PARIS")`` → (on_hand, reserved, available)."""
    from comptoir.inventory.models import InventoryLevel

    async def read(sku: str, location: str) -> tuple[int, int, int]:
        async with sessionmaker() as session:
            row = await session.scalar(select(InventoryLevel).where(
                InventoryLevel.sku == sku, InventoryLevel.location == location))
            if row is None:
                return (0, 0, 0)
            return (row.on_hand, row.reserved, row.on_hand - row.reserved - row.safety_stock)

    return read


@pytest.fixture
def stored(sessionmaker: Any) -> Callable[[], Any]:
    """``await stored()``: row counts and reserved units, equal before and after a refusal."""
    from comptoir.customers.models import Customer
    from comptoir.events.models import Event
    from comptoir.idempotency import IdempotencyKey
    from comptoir.inventory.models import InventoryLevel, InventoryMovement
    from comptoir.orders.models import Order, OrderAllocation, OrderLine

    async def snapshot() -> dict[str, int]:
        async with sessionmaker() as session:
            counts = {}
            for model in (Order, OrderLine, OrderAllocation, Event, IdempotencyKey, Customer,
                          InventoryMovement):
                counts[model.__tablename__] = await session.scalar(
                    select(func.count()).select_from(model))
            counts["reserved"] = await session.scalar(
                select(func.coalesce(func.sum(InventoryLevel.reserved), 0)))
            return counts

    return snapshot


Rules = Callable[..., Awaitable[None]]
BIG = {"kind": "amount_over", "points": 60, "amount": 10_000}
ABROAD = {"kind": "countries_differ", "points": 30}
# One rule of every kind, none of which a plain test order trips enough to be held.
EVERY_RULE = [
    {"kind": "amount_over", "points": 10, "amount": 10_000_000},
    {"kind": "new_customer_amount_over", "points": 10, "amount": 10_000_000},
    {"kind": "countries_differ", "points": 10},
    {"kind": "velocity_email", "points": 10, "at_least": 1000, "minutes": 10},
    {"kind": "velocity_phone", "points": 10, "at_least": 1000, "minutes": 10},
    {"kind": "velocity_address", "points": 10, "at_least": 1000, "minutes": 60},
    {"kind": "watched_postcode", "points": 10, "values": "97100, 98*"},
    {"kind": "watched_email_domain", "points": 10, "values": "mailinator.com"},
    {"kind": "many_cards", "points": 10, "at_least": 1000, "minutes": 1440},
]


@pytest.fixture
async def fraud_rules() -> AsyncIterator[Rules]:
    """``await fraud_rules(threshold, {"kind": ..., "points": ...}, ...)``: the web channel's
    threshold and rules (every channel's with ``"channel": None``), undone afterwards."""
    from comptoir.config import service as config
    from comptoir.config.models import FraudRule, SalesChannel

    async def configure(threshold: int | None, *rules: dict[str, Any],
                        channel: str = "web") -> None:
        await SalesChannel.update({SalesChannel.fraud_threshold: threshold}).where(
            SalesChannel.code == channel)
        web = await SalesChannel.select(SalesChannel.id).where(
            SalesChannel.code == channel).first()
        assert web is not None
        for rule in rules:
            values = {"channel": web["id"], **rule}
            await FraudRule(**values).save()
        config.invalidate()

    yield configure
    await FraudRule.delete(force=True)
    await SalesChannel.update({SalesChannel.fraud_threshold: None}, force=True)
    config.invalidate()


@pytest.fixture
async def web(client_for: Any) -> Any:
    return await client_for(key="web")


from tests.routing.conftest import routing_config  # noqa: E402, F401  (capacity tests)
