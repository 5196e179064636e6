"""Helpers for invoicing tests: the company's legal details, orders ready to leave, and the
steps that make goods leave through the real API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.fulfillment.conftest import act, books, pickup_code, work_for  # noqa: F401
from tests.orders.conftest import level, order_body, pickup, stored, web  # noqa: F401

__all__ = ["COMPANY", "order_body", "pickup"]

COMPANY: dict[str, Any] = {
    "legal_name": "Quai Neuf SAS", "legal_form": "SAS", "share_capital": "10 000 €",
    "siren": "123456782", "siret": "12345678200011", "rcs": "RCS Lyon 123 456 782",
    "vat_number": "FR12123456782", "address_line1": "12 quai Neuf", "postal_code": "69002",
    "city": "Lyon", "country": "FR", "email": "compta@quai-neuf.example",
    "phone": "+33478000000",
}


async def set_company(**changes: Any) -> None:
    """The company row, changed; the configuration cache forgets what it read."""
    from comptoir.config import service as config
    from comptoir.config.models import Company

    await Company.update(force=True, **changes)
    config.invalidate()


@pytest.fixture
async def company(app: Any) -> AsyncIterator[dict[str, Any]]:
    """The company's legal details configured (policy per shipment); gone after the test."""
    from comptoir.config import service as config
    from comptoir.config.models import Company

    await Company.delete(force=True)
    await Company(**COMPANY).save()
    config.invalidate()
    yield COMPANY
    await Company.delete(force=True)
    config.invalidate()


async def capture(client: httpx.AsyncClient, *lines: tuple[str, int], **extra: Any) -> str:
    response = await client.post("/api/orders", json=order_body(*lines, **extra))
    assert response.status_code == 201, response.text
    return response.json()["number"]  # type: ignore[no-any-return]


@pytest.fixture
def packed(client_for: Any, manager: httpx.AsyncClient,
           work_for: Any) -> Callable[..., Any]:  # noqa: F811
    """``await packed(("TEE", 2))`` → (order number, {location: fulfillment}), picked and
    packed everywhere, ready to ship."""

    async def make(*lines: tuple[str, int], **extra: Any) -> tuple[str, dict[str, Any]]:
        number = await capture(await client_for(key="web"), *lines, **extra)
        work = await work_for(number)
        for fulfillment in work.values():
            assert (await act(manager, fulfillment, "pick")).status_code == 200
            assert (await act(manager, fulfillment, "pack")).status_code == 200
        return number, work

    return make


async def ship(client: httpx.AsyncClient, fulfillment: dict[str, Any], tracking: str,
               lines: list[dict[str, Any]] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"carrier": "colissimo", "tracking_number": tracking}
    if lines is not None:
        body["lines"] = lines
    return await act(client, fulfillment, "ship", body)


@pytest.fixture
def invoice_rows(sessionmaker: Any) -> Callable[[], Any]:
    """``await invoice_rows()`` → the numbers of every invoice and credit note, and the
    counters' rows: what a refusal must leave as it was."""
    from comptoir.invoicing.models import (
        CreditNote,
        DocumentNumberCounter,
        Invoice,
        InvoicedLine,
    )

    async def read() -> dict[str, Any]:
        async with sessionmaker() as session:
            return {
                "invoices": sorted(await session.scalars(select(Invoice.number))),
                "credit_notes": sorted(await session.scalars(select(CreditNote.number))),
                "lines": await session.scalar(select(func.count()).select_from(InvoicedLine)),
                "credited": sorted((await session.execute(
                    select(Invoice.number, Invoice.credited, Invoice.status))).all()),
                "counters": sorted((await session.execute(select(
                    DocumentNumberCounter.kind, DocumentNumberCounter.last))).all()),
            }

    return read
