"""The catalog API: products with variants, search, pagination, SKU lookup and refusals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import RowCounts

MARINIERE = {
    "name": "Marinière Écru",
    "brand": "Armor",
    "category": "Hauts",
    "description": "Coton épais, rayures bleu marine.",
    "variants": [
        {"sku": "MAR-ECR-M", "barcode": "3760000000011", "options": {"size": "M", "colour": "écru"},
         "price": 3990, "weight_g": 280},
        {"sku": "MAR-ECR-L", "options": {"size": "L", "colour": "écru"}, "price": 4290},
    ],
}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def create(client: httpx.AsyncClient, body: dict[str, Any] = MARINIERE) -> dict[str, Any]:
    response = await client.post("/api/products", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_manager_creates_a_product_with_its_variants_and_reads_it_back(
    manager: httpx.AsyncClient,
) -> None:
    product = await create(manager)
    assert product["active"] is True
    assert product["brand"] == "Armor"
    by_sku = {v["sku"]: v for v in product["variants"]}
    medium = by_sku["MAR-ECR-M"]
    assert medium["price"] == 3990
    assert medium["currency"] == "EUR"
    assert medium["barcode"] == "3760000000011"
    assert medium["options"] == {"size": "M", "colour": "écru"}
    assert medium["weight_g"] == 280
    assert medium["name"] == "Marinière Écru — M / écru"  # made up from the options
    assert medium["active"] is True
    assert by_sku["MAR-ECR-L"]["barcode"] is None

    again = await manager.get(f"/api/products/{product['id']}")
    assert again.status_code == 200
    assert again.json() == product


async def test_product_creation_is_recorded_in_the_event_log(
    manager: httpx.AsyncClient, sessionmaker: Any
) -> None:
    from comptoir.events.service import events_after

    product = await create(manager)
    async with sessionmaker() as session:
        events = await events_after(session, 0, topic="catalog")
    assert [e.type for e in events] == ["catalog.product_created"]
    assert events[0].subject == product["id"]
    assert events[0].actor == "staff:manager1"


async def test_sku_lookup_gives_the_variant_and_its_product(
    manager: httpx.AsyncClient, web_channel: httpx.AsyncClient
) -> None:
    product = await create(manager)
    for client in (manager, web_channel):  # integrations look a SKU up with their channel key
        response = await client.get("/api/skus/MAR-ECR-L")
        assert response.status_code == 200, response.text
        variant = response.json()
        assert variant["sku"] == "MAR-ECR-L"
        assert variant["price"] == 4290
        assert variant["product_id"] == product["id"]
        assert variant["product_name"] == "Marinière Écru"
    assert_problem(await manager.get("/api/skus/NOPE-404"), 404, "unknown_sku")


SEARCHES = [
        ("mariniere", ["Marinière Écru"]),  # accents and case ignored
        ("ÉCRU", ["Marinière Écru"]),
        ("pull", ["Pull Camionneur"]),
        ("pul-gri", ["Pull Camionneur"]),  # part of a SKU, any case
        ("3760000000028", ["Pull Camionneur"]),  # a scanned barcode
        ("376000000", ["Marinière Écru", "Pull Camionneur"]),
        ("100%", []),  # LIKE wildcards are searched as text
        ("zzz", []),
]


async def test_search_finds_products_by_name_sku_or_barcode(
    manager: httpx.AsyncClient, subtests: pytest.Subtests
) -> None:
    await create(manager)
    await create(manager, {"name": "Pull Camionneur", "variants": [
        {"sku": "PUL-GRI-S", "barcode": "3760000000028", "price": 6900}]})
    await create(manager, {"name": "Chaussettes 100 laine", "variants": [
        {"sku": "CHA-LAI-39", "price": 1200}]})
    for query, expected in SEARCHES:
        with subtests.test(q=query):
            response = await manager.get("/api/products", params={"q": query})
            assert response.status_code == 200
            assert [p["name"] for p in response.json()["items"]] == expected


async def test_cursor_pagination_walks_every_product_exactly_once(
    manager: httpx.AsyncClient, catalog: Any
) -> None:
    # Two products share a name: the cursor must still tell them apart.
    names = ["Béret", "Ciré jaune", "Espadrilles", "Espadrilles", "Marinière", "Pull", "Vareuse"]
    for i, name in enumerate(names):
        await catalog.add(f"PAG-{i:02d}", name=name)
    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = (await manager.get("/api/products", params=params)).json()
        pages += 1
        seen += [p["id"] for p in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == len(names)
    # Alphabetical, as a manager expects to browse a catalog.
    listed = [(await manager.get(f"/api/products/{pid}")).json()["name"] for pid in seen]
    assert listed == names


async def test_the_active_filter_lists_deactivated_products_apart(
    manager: httpx.AsyncClient,
) -> None:
    kept = await create(manager)
    gone = await create(manager, {"name": "Ancien modèle",
                                  "variants": [{"sku": "OLD-1", "price": 10}]})
    assert (await manager.post(f"/api/products/{gone['id']}/deactivate")).status_code == 200
    active = (await manager.get("/api/products", params={"active": "true"})).json()["items"]
    inactive = (await manager.get("/api/products", params={"active": "false"})).json()["items"]
    everything = (await manager.get("/api/products")).json()["items"]
    assert [p["id"] for p in active] == [kept["id"]]
    assert [p["id"] for p in inactive] == [gone["id"]]
    assert len(everything) == 2


async def test_patch_changes_fields_updates_variants_by_sku_and_adds_new_ones(
    manager: httpx.AsyncClient,
) -> None:
    product = await create(manager)
    response = await manager.patch(f"/api/products/{product['id']}", json={
        "name": "Marinière Bretonne",
        "category": "Marinières",
        "variants": [
            {"sku": "MAR-ECR-M", "price": 3590, "barcode": None},
            {"sku": "MAR-ECR-XL", "price": 4590, "options": {"size": "XL", "colour": "écru"},
             "barcode": "3760000000035"},
        ],
    })
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["name"] == "Marinière Bretonne"
    assert patched["category"] == "Marinières"
    assert patched["brand"] == "Armor"  # untouched
    by_sku = {v["sku"]: v for v in patched["variants"]}
    assert set(by_sku) == {"MAR-ECR-M", "MAR-ECR-L", "MAR-ECR-XL"}
    assert by_sku["MAR-ECR-M"]["price"] == 3590
    assert by_sku["MAR-ECR-M"]["barcode"] is None
    original_ids = {v["sku"]: v["id"] for v in product["variants"]}
    assert by_sku["MAR-ECR-M"]["id"] == original_ids["MAR-ECR-M"]  # the same row, updated
    assert by_sku["MAR-ECR-L"]["price"] == 4290
    assert by_sku["MAR-ECR-XL"]["barcode"] == "3760000000035"
    # Names Comptoir made up follow the product's new name.
    assert by_sku["MAR-ECR-L"]["name"] == "Marinière Bretonne — L / écru"
    assert (await manager.get("/api/skus/MAR-ECR-XL")).json()["product_id"] == product["id"]
    # The barcode freed from MAR-ECR-M can now go to another SKU.
    await create(manager, {"name": "Autre", "variants": [
        {"sku": "AUT-1", "price": 100, "barcode": "3760000000011"}]})


async def test_deactivating_a_product_stops_its_variants_and_deletes_nothing(
    manager: httpx.AsyncClient, row_counts: RowCounts
) -> None:
    product = await create(manager)
    rows = await row_counts()
    response = await manager.post(f"/api/products/{product['id']}/deactivate")
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert all(v["active"] is False for v in response.json()["variants"])
    assert (await manager.get("/api/skus/MAR-ECR-M")).json()["active"] is False
    after = await row_counts()
    assert after["products"] == rows["products"] and after["variants"] == rows["variants"]
    reactivated = (await manager.post(f"/api/products/{product['id']}/activate")).json()
    assert reactivated["active"] is True
    assert all(v["active"] for v in reactivated["variants"])


def _variant(**changes: Any) -> dict[str, Any]:
    return {"name": "Béret", "variants": [{"sku": "BER-01", "price": 2500, **changes}]}


BAD_PRODUCTS = [
        (_variant(price=-1), 422, "negative_price"),
        (_variant(price=10**12), 422, "price_too_large"),
        (_variant(sku="   "), 422, "empty_sku"),
        (_variant(sku="BER 01"), 422, "invalid_sku"),
        (_variant(sku="BER/01"), 422, "invalid_sku"),
        (_variant(currency="EURO"), 422, "invalid_currency"),
        (_variant(currency="€"), 422, "invalid_currency"),
        (_variant(barcode="37600 0001"), 422, "invalid_barcode"),
        (_variant(weight_g=-5), 422, "invalid_weight"),
        ({"name": "  ", "variants": [{"sku": "X-1", "price": 1}]}, 422, "name_required"),
        ({"name": "Béret", "variants": []}, 422, "variants_required"),
        ({"name": "Béret", "variants": [{"sku": "B-1", "price": 1}, {"sku": "B-1", "price": 2}]},
         409, "duplicate_sku"),
        ({"name": "Béret", "variants": [{"sku": "B-1", "price": 1, "barcode": "111"},
                                        {"sku": "B-2", "price": 2, "barcode": "111"}]},
         409, "duplicate_barcode"),
        (_variant(sku="MAR-ECR-M"), 409, "duplicate_sku"),  # exists on another product
        (_variant(barcode="3760000000011"), 409, "duplicate_barcode"),
        (_variant(price="19.99"), 400, "invalid_request"),  # prices are integers of cents
        (_variant(price=19.5), 400, "invalid_request"),
        ({"variants": [{"sku": "X", "price": 1}]}, 400, "invalid_request"),
]


async def test_bad_product_is_refused_with_a_code_and_nothing_is_written(
    manager: httpx.AsyncClient, row_counts: RowCounts, subtests: pytest.Subtests
) -> None:
    await create(manager)
    before = await row_counts()
    for body, status, code in BAD_PRODUCTS:
        with subtests.test(code=code, body=body):
            assert_problem(await manager.post("/api/products", json=body), status, code)
            assert await row_counts() == before


async def test_malformed_json_is_refused_and_nothing_is_written(
    manager: httpx.AsyncClient, row_counts: RowCounts
) -> None:
    before = await row_counts()
    response = await manager.post("/api/products", content=b"{not json",
                                  headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"]
    assert await row_counts() == before


BAD_PATCHES = [
        ({"variants": [{"sku": "PUL-GRI-S", "price": 1}]}, 409, "duplicate_sku"),
        ({"variants": [{"sku": "MAR-ECR-L", "barcode": "3760000000028"}]}, 409,
         "duplicate_barcode"),
        ({"variants": [{"sku": "MAR-ECR-S"}]}, 422, "price_required"),  # new SKU, no price
        ({"variants": [{"sku": "MAR-ECR-L", "price": -100}]}, 422, "negative_price"),
        ({"variants": [{"sku": "MAR-ECR-L", "currency": "eu"}]}, 422, "invalid_currency"),
        # One good change and one bad one: neither is written.
        ({"name": "Renamed", "variants": [{"sku": "MAR-ECR-L", "price": 1},
                                          {"sku": "MAR-ECR-M", "price": -1}]}, 422,
         "negative_price"),
        ({"name": ""}, 422, "name_required"),
        ({"brand": "x" * 121}, 422, "text_too_long"),
]


async def test_bad_patch_is_refused_and_changes_nothing(
    manager: httpx.AsyncClient, row_counts: RowCounts, subtests: pytest.Subtests
) -> None:
    product = await create(manager)
    await create(manager, {"name": "Pull Camionneur", "variants": [
        {"sku": "PUL-GRI-S", "barcode": "3760000000028", "price": 6900}]})
    path = f"/api/products/{product['id']}"
    before, rows = (await manager.get(path)).json(), await row_counts()
    for patch, status, code in BAD_PATCHES:
        with subtests.test(code=code, patch=patch):
            assert_problem(await manager.patch(path, json=patch), status, code)
            assert (await manager.get(path)).json() == before
            assert await row_counts() == rows


async def test_unknown_product_is_a_404(manager: httpx.AsyncClient) -> None:
    missing = "01900000-0000-7000-8000-000000000000"
    assert_problem(await manager.get(f"/api/products/{missing}"), 404, "unknown_product")
    assert_problem(await manager.patch(f"/api/products/{missing}", json={"name": "x"}), 404,
                   "unknown_product")
    assert_problem(await manager.post(f"/api/products/{missing}/deactivate"), 404,
                   "unknown_product")


async def test_a_cursor_that_no_list_gave_is_refused(manager: httpx.AsyncClient) -> None:
    for cursor in ("garbage!", "WyJvbmx5LW9uZSJd", "WyJhIiwibm90LWEtdXVpZCJd"):
        assert_problem(await manager.get("/api/products", params={"cursor": cursor}), 422,
                       "invalid_cursor")


async def test_limit_outside_1_to_200_is_refused(manager: httpx.AsyncClient) -> None:
    for limit in (0, 201):
        assert_problem(await manager.get("/api/products", params={"limit": limit}), 400,
                       "invalid_request")


# --- who may do what ----------------------------------------------------------------------------


async def test_catalog_reads_are_for_staff_and_writes_for_managers(
    client_for: Any, manager: httpx.AsyncClient, row_counts: RowCounts
) -> None:
    product = await create(manager)
    path = f"/api/products/{product['id']}"
    readers = [await client_for("admin"), await client_for("associate"),
               await client_for(key="manager-key"), await client_for(key="store-lyon-key")]
    for client in readers:
        assert (await client.get("/api/products")).status_code == 200
        assert (await client.get(path)).status_code == 200
        assert (await client.get("/api/skus/MAR-ECR-M")).status_code == 200

    rows = await row_counts()
    for client in (await client_for("associate"), await client_for(key="store-lyon-key")):
        new = {"name": "x", "variants": [{"sku": "ASSOC-1", "price": 1}]}
        assert_problem(await client.post("/api/products", json=new), 403, "forbidden")
        assert_problem(await client.patch(path, json={"name": "x"}), 403, "forbidden")
        assert_problem(await client.post(f"{path}/deactivate"), 403, "forbidden")
    assert await row_counts() == rows

    for client in (await client_for("admin"), await client_for(key="manager-key")):
        response = await client.patch(path, json={"description": "par " + str(id(client))})
        assert response.status_code == 200


async def test_channel_keys_only_look_skus_up(
    manager: httpx.AsyncClient, web_channel: httpx.AsyncClient
) -> None:
    product = await create(manager)
    assert (await web_channel.get("/api/skus/MAR-ECR-M")).status_code == 200
    assert_problem(await web_channel.get("/api/products"), 403, "forbidden")
    assert_problem(await web_channel.get(f"/api/products/{product['id']}"), 403, "forbidden")
    assert_problem(await web_channel.post("/api/products", json=MARINIERE), 403, "forbidden")


async def test_anonymous_callers_see_nothing_of_the_catalog(
    manager: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    product = await create(manager)
    for response in (
        await anon.get("/api/products"),
        await anon.get(f"/api/products/{product['id']}"),
        await anon.get("/api/skus/MAR-ECR-M"),
        await anon.post("/api/products", json=MARINIERE),
        await anon.patch(f"/api/products/{product['id']}", json={"name": "x"}),
        await anon.post(f"/api/products/{product['id']}/deactivate"),
    ):
        assert_problem(response, 401, "not_authenticated")


async def test_a_sku_s_tax_class_is_set_changed_and_checked(
    manager: httpx.AsyncClient,
) -> None:
    book = await create(manager, {"name": "Carnets de bord", "variants": [
        {"sku": "LIV-CARNETS", "price": 2900, "tax_class": "super_reduced"}]})
    assert book["variants"][0]["tax_class"] == "super_reduced"
    mariniere = await create(manager)
    assert {v["tax_class"] for v in mariniere["variants"]} == {"standard"}  # the default

    response = await manager.patch(f"/api/products/{book['id']}", json={
        "variants": [{"sku": "LIV-CARNETS", "tax_class": "zero"},
                     {"sku": "LIV-CARNETS-2", "price": 3100, "tax_class": "reduced"}]})
    assert response.status_code == 200, response.text
    by_sku = {v["sku"]: v for v in response.json()["variants"]}
    assert by_sku["LIV-CARNETS"]["tax_class"] == "zero"
    assert by_sku["LIV-CARNETS"]["price"] == 2900  # untouched
    assert by_sku["LIV-CARNETS-2"]["tax_class"] == "reduced"
    assert (await manager.get("/api/skus/LIV-CARNETS-2")).json()["tax_class"] == "reduced"

    # An unknown class is refused with a code, on creation and on change, and changes nothing.
    problem = assert_problem(await manager.post("/api/products", json={
        "name": "Cigare", "variants": [{"sku": "CIG-1", "price": 900, "tax_class": "luxury"}]}),
        422, "unknown_tax_class")
    assert "luxury" in problem["detail"]
    assert_problem(await manager.patch(f"/api/products/{book['id']}", json={
        "variants": [{"sku": "LIV-CARNETS", "tax_class": "half"}]}), 422, "unknown_tax_class")
    assert (await manager.get("/api/skus/LIV-CARNETS")).json()["tax_class"] == "zero"
    assert_problem(await manager.get("/api/skus/CIG-1"), 404, "unknown_sku")
