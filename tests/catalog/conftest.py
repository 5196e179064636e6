"""Catalog test helpers: counting rows, to show a refusal wrote nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

RowCounts = Callable[[], Awaitable[dict[str, int]]]


@pytest.fixture
def row_counts(sessionmaker: Any) -> RowCounts:
    """``await row_counts()`` → rows per operational table (every SQLAlchemy table but keys)."""
    from comptoir.db.registry import Base

    tables = [t for t in Base.metadata.sorted_tables if t.name != "api_keys"]

    async def count() -> dict[str, int]:
        async with sessionmaker() as session:
            return {t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                    for t in tables}

    return count
