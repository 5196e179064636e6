"""``available = on_hand - reserved - safety_stock`` is written once, and SQL agrees with Python."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, insert, select, text
from sqlalchemy.pool import StaticPool

import comptoir.catalog.models  # noqa: F401  (the variants table the levels refer to)
from comptoir.db.base import Base
from comptoir.inventory.models import InventoryLevel, available_sql, available_units

_ENGINE = create_engine("sqlite://", poolclass=StaticPool)
Base.metadata.create_all(_ENGINE, tables=[
    Base.metadata.tables[name] for name in ("products", "variants", "inventory_levels")])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000))
def test_the_database_and_the_level_promise_the_same_units(
    on_hand: int, reserved_wanted: int, safety_stock: int
) -> None:
    reserved = min(reserved_wanted, on_hand)  # the table's check: reserved <= on_hand
    level = InventoryLevel(sku="S", location="L", on_hand=on_hand, reserved=reserved,
                           safety_stock=safety_stock)
    expected = max(0, on_hand - reserved - safety_stock)
    assert level.available == available_units(on_hand, reserved, safety_stock) == expected
    with _ENGINE.begin() as conn:
        conn.execute(insert(InventoryLevel).values(
            id=uuid.uuid4(), sku="S", location="L", on_hand=on_hand, reserved=reserved,
            safety_stock=safety_stock))
        in_sql = conn.scalar(select(InventoryLevel.available))
        in_text = conn.scalar(text(f"SELECT {available_sql('l')} FROM inventory_levels l"))
        # A reservation of `expected` units fits, one more does not (when anything is left).
        fits = conn.scalar(select(InventoryLevel.available >= max(expected, 1)))
        conn.execute(delete(InventoryLevel))
    assert max(0, in_sql or 0) == max(0, in_text or 0) == expected
    assert bool(fits) is (expected >= 1)
