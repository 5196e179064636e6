"""Invoice numbers are continuous: however many issue at once, 1 to N with no gap and no
duplicate, and a rolled-back issue gives its number back (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from comptoir.invoicing.numbering import format_number, parse_number
from tests.invoicing.conftest import act, ship

YEAR = dt.datetime.now(ZoneInfo("Europe/Paris")).year
CONCURRENT = 200


def test_numbers_read_prefix_year_and_a_six_digit_serial() -> None:
    assert format_number("FA", 2026, 1) == "FA-2026-000001"
    assert format_number("av", 2027, 1234567) == "AV-2027-1234567"
    assert parse_number("FA-2026-000042") == ("FA", 2026, 42)
    assert parse_number("FA-26-1") is None
    with pytest.raises(ValueError, match="start at 1"):
        format_number("FA", 2026, 0)


async def _retry_busy(send: Any) -> httpx.Response:
    """A saturated app answers 503 (nothing done): send again, as a client would."""
    for _attempt in range(50):
        answer: httpx.Response = await send()
        if answer.status_code != 503:
            return answer
        await asyncio.sleep(0.05 + random.random() / 10)
    return answer


async def packed_orders(web: httpx.AsyncClient, manager: httpx.AsyncClient,
                        count: int) -> list[dict[str, Any]]:
    """``count`` one-unit orders, picked and packed at WH-PARIS; their fulfillments."""
    from tests.invoicing.conftest import order_body

    numbers = set()
    for start in range(0, count, 20):
        answers = await asyncio.gather(*(
            _retry_busy(lambda i=i: web.post("/api/orders", json=order_body(
                ("TEE", 1), external_ref=f"N-{i}")))
            for i in range(start, min(count, start + 20))))
        for answer in answers:
            assert answer.status_code == 201, answer.text
            numbers.add(answer.json()["number"])
    work: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (await manager.get("/api/fulfillments", params={
            "limit": "100", **({"cursor": cursor} if cursor else {})})).json()
        work += [f for f in page["items"] if f["order_number"] in numbers]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(work) == count
    for start in range(0, count, 20):
        batch = work[start:start + 20]
        for action in ("pick", "pack"):
            answers = await asyncio.gather(*(
                _retry_busy(lambda f=f, action=action: act(manager, f, action))
                for f in batch))
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return work


async def test_200_parcels_shipped_at_once_are_invoiced_1_to_200(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, company: Any,
    sessionmaker: Any,
) -> None:
    from comptoir.invoicing.models import Invoice

    await catalog.add("TEE", price=1500, stock={"WH-PARIS": CONCURRENT})
    work = await packed_orders(web, manager, CONCURRENT)
    answers = await asyncio.gather(*(
        _retry_busy(lambda f=f, i=i: ship(manager, f, f"T{i}")) for i, f in enumerate(work)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers][:3]
    async with sessionmaker() as session:
        rows = (await session.execute(select(Invoice.number, Invoice.order_number))).all()
    assert sorted(number for number, _order in rows) == [
        format_number("FA", YEAR, serial) for serial in range(1, CONCURRENT + 1)]
    assert len({order for _number, order in rows}) == CONCURRENT  # one per order


async def test_numbers_drawn_at_once_with_some_rolled_back_stay_continuous(
    sessionmaker: Any, app: Any,
) -> None:
    from comptoir.invoicing.service import draw_number

    rolled_back = set(random.Random(12).sample(range(CONCURRENT), 40))

    async def one(i: int) -> str | None:
        async with sessionmaker() as session:
            number = await draw_number(session, entity="123456782", kind="invoice",
                                       prefix="FA", year=YEAR)
            await asyncio.sleep(random.random() / 100)  # hold the row a little
            if i in rolled_back:
                await session.rollback()
                return None
            await session.commit()
            return number

    numbers = [n for n in await asyncio.gather(*(one(i) for i in range(CONCURRENT))) if n]
    assert sorted(numbers) == [format_number("FA", YEAR, serial)
                               for serial in range(1, CONCURRENT - len(rolled_back) + 1)]
    # Another kind, another entity: sequences of their own.
    async with sessionmaker() as session, session.begin():
        assert await draw_number(session, entity="123456782", kind="credit_note",
                                 prefix="AV", year=YEAR) == f"AV-{YEAR}-000001"
        assert await draw_number(session, entity="999999999", kind="invoice",
                                 prefix="FA", year=YEAR) == f"FA-{YEAR}-000001"
