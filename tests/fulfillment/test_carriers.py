"""Carriers come from the configuration: their tracking links, and refusing unknown ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fulfillment.conftest import act, order_body, order_status


@pytest.fixture
async def carriers() -> AsyncIterator[Any]:
    """Carriers added for a test (``await carriers.add(...)``), removed after it."""
    from comptoir.config import service as config
    from comptoir.config.models import Carrier

    added: list[str] = []

    class Maker:
        async def add(self, code: str, template: str, *, active: bool = True) -> None:
            await Carrier(code=code, name=code.upper(), tracking_url_template=template,
                          active=active).save()
            added.append(code)
            config.invalidate()

    yield Maker()
    if added:
        await Carrier.delete().where(Carrier.code.is_in(added))
        config.invalidate()


async def _packed(web: httpx.AsyncClient, manager: httpx.AsyncClient, work_for: Any) -> tuple[
    str, dict[str, Any]
]:
    response = await web.post("/api/orders", json=order_body(("TEE", 1)))
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    paris = (await work_for(number))["WH-PARIS"]
    await act(manager, paris, "pick")
    await act(manager, paris, "pack")
    return number, paris


async def test_a_carrier_added_in_the_configuration_gives_its_tracking_link(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, work_for: Any,
    carriers: Any,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    await carriers.add("geodis", "https://geodis.example/suivi/{tracking}?lang=fr")
    number, paris = await _packed(web, manager, work_for)
    sent = await act(manager, paris, "ship", {"carrier": "Geodis", "tracking_number": "G 42"})
    assert sent.status_code == 200, sent.text
    [parcel] = sent.json()["shipments"]
    assert parcel["carrier"] == "geodis"
    assert parcel["tracking_url"] == "https://geodis.example/suivi/G%2042?lang=fr"
    assert await order_status(manager, number) == "shipped"


async def test_an_unknown_or_inactive_carrier_is_refused_and_nothing_ships(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, work_for: Any,
    level: Any, carriers: Any,
) -> None:
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    await carriers.add("retired", "https://retired.example/{tracking}", active=False)
    number, paris = await _packed(web, manager, work_for)
    for carrier in ("pigeon-post", "retired"):
        refused = await act(manager, paris, "ship", {"carrier": carrier,
                                                     "tracking_number": "X1"})
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "unknown_carrier"
        assert "colissimo" in problem["allowed"] and "retired" not in problem["allowed"]
    assert (await manager.get(f"/api/fulfillments/{paris['id']}")).json()["status"] == "packed"
    assert await order_status(manager, number) == "in_fulfillment"
    assert await level("TEE", "WH-PARIS") == (5, 1, 4)
