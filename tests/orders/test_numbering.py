"""Order numbers: readable, sequential per year, never duplicated."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from comptoir.orders.numbering import format_number, next_number, parse_number


def test_numbers_read_like_cmp_year_and_six_digits() -> None:
    assert format_number(2026, 123) == "CMP-2026-000123"
    assert format_number(2026, 1_234_567) == "CMP-2026-1234567"  # grows, never wraps
    assert parse_number("CMP-2026-000123") == (2026, 123)
    assert parse_number("CMP-26-1") is None
    with pytest.raises(ValueError):
        format_number(2026, 0)


async def test_concurrent_transactions_never_get_the_same_number(sessionmaker: Any) -> None:
    from comptoir.db.engine import is_postgres
    from comptoir.orders.numbering import prepare_year

    async def take() -> str:
        async with sessionmaker() as session, session.begin():
            if is_postgres(session):
                await prepare_year(session.bind, 2031)
            return await next_number(session, 2031)

    numbers = await asyncio.gather(*(take() for _ in range(40)))
    assert len(set(numbers)) == 40
    serials = sorted(parse_number(n)[1] for n in numbers)  # type: ignore[index]
    assert serials == list(range(serials[0], serials[0] + 40))


async def test_each_year_counts_from_its_own_start(sessionmaker: Any) -> None:
    from comptoir.db.engine import is_postgres
    from comptoir.orders.numbering import prepare_year

    async with sessionmaker() as session, session.begin():
        for year in (2041, 2042):
            if is_postgres(session):
                await prepare_year(session.bind, year)
        first = [await next_number(session, 2041), await next_number(session, 2042),
                 await next_number(session, 2041)]
    assert first == ["CMP-2041-000001", "CMP-2042-000001", "CMP-2041-000002"]
