"""Bytes a client may send that no handler should see: each is a 4xx problem with a code,
before any handler or the database (PostgreSQL refuses a NUL in text; that used to be a 500),
and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import httpx
import msgspec
import pytest

from tests.conftest import PASSWORD, RowCounts, World
from tests.orders.conftest import order_body

JSON = {"content-type": "application/json"}


@pytest.fixture
async def tee(catalog: Any) -> None:
    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 10, "ST-LYON-01": 10})


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code, problem
    assert problem["detail"]
    return problem


@pytest.mark.parametrize("field", ["note", "external_ref"])
async def test_a_nul_character_in_a_captured_order_is_refused(
    tee: None, web_channel: httpx.AsyncClient, row_counts: RowCounts, field: str
) -> None:
    before = await row_counts()
    response = await web_channel.post("/api/orders",
                                      json=order_body(("TEE", 1), **{field: "gift\x00wrap"}))
    assert "NUL" in assert_problem(response, 400, "nul_character")["detail"]
    assert await row_counts() == before


async def test_a_nul_character_in_a_nested_field_or_a_key_is_refused(
    tee: None, web_channel: httpx.AsyncClient, row_counts: RowCounts
) -> None:
    before = await row_counts()
    body = order_body(("TEE", 1))
    body["delivery"]["address"]["city"] = "Ly\x00on"
    assert_problem(await web_channel.post("/api/orders", json=body), 400, "nul_character")
    body = order_body(("TEE", 1)) | {"no\x00te": "x"}
    assert_problem(await web_channel.post("/api/orders", json=body), 400, "nul_character")
    assert await row_counts() == before


async def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(
    tee: None, web_channel: httpx.AsyncClient
) -> None:
    # The note is the six characters \u0000 (a Windows path, a pasted escape): plain text.
    response = await web_channel.post("/api/orders",
                                      json=order_body(("TEE", 1), note="C:\\u0000"))
    assert response.status_code == 201, response.text
    assert response.json()["note"] == "C:\\u0000"


@pytest.mark.parametrize(("path", "params"), [
    ("/api/orders", {"channel": "web\x00"}),
    ("/api/inventory", {"sku": "TEE\x00"}),
    ("/api/orders", {"q": "\x00"}),
])
async def test_a_nul_character_in_the_query_string_is_refused(
    tee: None, admin: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    assert_problem(await admin.get(path, params=params), 400, "nul_character")


async def test_a_nul_character_in_the_path_is_refused(admin: httpx.AsyncClient) -> None:
    assert_problem(await admin.get("/api/orders/CMP-2026%00"), 400, "nul_character")
    assert_problem(await admin.get("/api/skus/TEE%00"), 400, "nul_character")


async def test_a_nul_character_in_a_header_is_refused(
    tee: None, web_channel: httpx.AsyncClient, row_counts: RowCounts
) -> None:
    before = await row_counts()
    response = await web_channel.post("/api/orders", json=order_body(("TEE", 1)),
                                      headers={"Idempotency-Key": "key\x00one"})
    assert "Idempotency-Key".lower() in assert_problem(response, 400, "nul_character")["detail"]
    assert await row_counts() == before
    response = await web_channel.get("/api/orders", headers={"X-Request-Note": "a\x00b"})
    assert_problem(response, 400, "nul_character")


async def test_a_body_that_is_not_utf8_is_refused(
    tee: None, web_channel: httpx.AsyncClient, row_counts: RowCounts
) -> None:
    before = await row_counts()
    raw = json.dumps(order_body(("TEE", 1), note="café"), ensure_ascii=False).encode().replace(
        "café".encode(), "café".encode("latin-1"))
    response = await web_channel.post("/api/orders", content=raw, headers=JSON)
    assert "UTF-8" in assert_problem(response, 400, "invalid_utf8")["detail"]
    assert await row_counts() == before


async def test_a_path_query_or_header_that_is_not_utf8_is_refused(
    admin: httpx.AsyncClient,
) -> None:
    assert_problem(await admin.get("/api/orders/CMP%FF"), 400, "invalid_utf8")
    assert_problem(await admin.get("/api/orders?channel=%FF%FE"), 400, "invalid_utf8")
    assert_problem(await admin.get("/api/orders", headers={"X-Note": b"caf\xe9"}), 400,
                   "invalid_utf8")


async def test_json_nested_thousands_deep_is_refused_before_decoding(
    tee: None, web_channel: httpx.AsyncClient, row_counts: RowCounts
) -> None:
    before = await row_counts()
    body = json.dumps(order_body(("TEE", 1)))[:-1] + ', "extra": ' + "[" * 5000 + "]" * 5000 + "}"
    response = await web_channel.post("/api/orders", content=body.encode(), headers=JSON)
    assert_problem(response, 400, "too_deeply_nested")
    unclosed = '{"lines": ' + "[" * 5000
    response = await web_channel.post("/api/orders", content=unclosed.encode(), headers=JSON)
    assert_problem(response, 400, "too_deeply_nested")
    assert await row_counts() == before


async def test_nesting_is_counted_exactly_up_to_32_levels(web_channel: httpx.AsyncClient) -> None:
    def nested(levels: int) -> bytes:  # the outer object is the first level
        return ('{"extra": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}").encode()

    at_limit = await web_channel.post("/api/orders", content=nested(32), headers=JSON)
    assert assert_problem(at_limit, 400, "unknown_field")["field"] == "extra"
    over = await web_channel.post("/api/orders", content=nested(33), headers=JSON)
    assert_problem(over, 400, "too_deeply_nested")


async def test_a_json_body_over_a_megabyte_is_too_large(web_channel: httpx.AsyncClient) -> None:
    body = json.dumps(order_body(("TEE", 1), note="x" * (1024 * 1024))).encode()
    assert_problem(await web_channel.post("/api/orders", content=body, headers=JSON), 413,
                   "payload_too_large")


async def test_brackets_inside_strings_are_not_nesting(
    tee: None, web_channel: httpx.AsyncClient
) -> None:
    note = "[[[[" * 20 + '{"\\"' * 20
    response = await web_channel.post("/api/orders", json=order_body(("TEE", 1), note=note))
    assert response.status_code == 201, response.text
    assert response.json()["note"] == note


@pytest.mark.parametrize(("where", "field", "path"), [
    ((), "coupon", "coupon"),
    (("delivery", "address"), "zip", "delivery.address.zip"),
    (("lines", 0), "discount", "lines[0].discount"),
])
async def test_an_unknown_body_field_is_refused_by_name(
    tee: None, web_channel: httpx.AsyncClient, row_counts: RowCounts,
    where: tuple[str | int, ...], field: str, path: str,
) -> None:
    before = await row_counts()
    body = order_body(("TEE", 1))
    target: Any = body
    for step in where:
        target = target[step]
    target[field] = "SUMMER"
    problem = assert_problem(await web_channel.post("/api/orders", json=body), 400,
                             "unknown_field")
    assert problem["field"] == path
    assert f"'{path}'" in problem["detail"]
    assert await row_counts() == before


async def test_an_unknown_field_is_refused_on_every_kind_of_body(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient, world: World
) -> None:
    login = await anon.post("/api/auth/login", json={
        "username": world.users["admin"], "password": PASSWORD, "remember_me": True})
    assert assert_problem(login, 400, "unknown_field")["field"] == "remember_me"
    simulate = await admin.post("/api/routing/simulate", json={
        "lines": [{"sku": "TEE", "quantity": 1}], "delivery": {"method": "pickup",
                                                               "location": "ST-LYON-01"},
        "priority": "high"})
    assert assert_problem(simulate, 400, "unknown_field")["field"] == "priority"


@pytest.mark.parametrize(("content_type", "content"), [
    ("text/plain", None),
    ("text/plain; charset=utf-8", None),
    ("application/x-www-form-urlencoded", b"lines=TEE&delivery=ship"),
    (None, None),
])
async def test_a_body_that_is_not_json_is_refused_as_unsupported(
    tee: None, web_channel: httpx.AsyncClient, row_counts: RowCounts,
    content_type: str | None, content: bytes | None,
) -> None:
    before = await row_counts()
    raw = content or json.dumps(order_body(("TEE", 1))).encode()
    headers = {"content-type": content_type} if content_type else {}
    response = await web_channel.post("/api/orders", content=raw, headers=headers)
    assert "application/json" in assert_problem(response, 415, "unsupported_media_type")["detail"]
    assert await row_counts() == before


async def test_json_with_a_suffix_media_type_is_still_json(
    tee: None, web_channel: httpx.AsyncClient
) -> None:
    raw = json.dumps(order_body(("TEE", 1))).encode()
    response = await web_channel.post("/api/orders", content=raw,
                                      headers={"content-type": "application/vnd.shop+json"})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("country", ["XX", "UK", "EU", "ZZ", "AA"])
async def test_a_country_that_iso_3166_does_not_list_is_refused_at_capture(
    tee: None, web_channel: httpx.AsyncClient, row_counts: RowCounts, country: str
) -> None:
    before = await row_counts()
    body = order_body(("TEE", 1))
    body["delivery"]["address"]["country"] = country
    problem = assert_problem(await web_channel.post("/api/orders", json=body), 422,
                             "invalid_country")
    assert country in problem["detail"]
    assert await row_counts() == before


async def test_a_listed_country_is_accepted_whatever_its_case(
    tee: None, web_channel: httpx.AsyncClient
) -> None:
    body = order_body(("TEE", 1))
    body["delivery"]["address"]["country"] = "be"
    response = await web_channel.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["delivery"]["address"]["country"] == "BE"


async def test_a_country_that_iso_3166_does_not_list_is_refused_by_the_routing_simulator(
    tee: None, admin: httpx.AsyncClient
) -> None:
    response = await admin.post("/api/routing/simulate", json={
        "lines": [{"sku": "TEE", "quantity": 1}],
        "delivery": {"method": "ship", "address": {"postal_code": "69001", "country": "XX"}}})
    assert_problem(response, 422, "invalid_country")


async def test_an_edit_to_an_address_in_no_country_is_refused(
    tee: None, web_channel: httpx.AsyncClient, manager: httpx.AsyncClient
) -> None:
    order = (await web_channel.post("/api/orders", json=order_body(("TEE", 1)))).json()
    address = {**order_body(("TEE", 1))["delivery"]["address"], "country": "XX"}
    response = await manager.patch(f"/api/orders/{order['number']}",
                                   json={"delivery": {"method": "ship", "address": address}},
                                   headers={"If-Match": str(order["version"])})
    assert_problem(response, 422, "invalid_country")


@pytest.mark.parametrize("length", [129, 1024, 1_000_000])
async def test_a_password_too_long_to_be_one_is_refused_before_hashing(
    anon: httpx.AsyncClient, world: World, length: int
) -> None:
    response = await anon.post("/api/auth/login", json={"username": world.users["admin"],
                                                        "password": "p" * length})
    problem = assert_problem(response, 400, "invalid_request")
    assert "password" in problem["detail"]


async def test_the_longest_password_a_staff_member_can_have_is_checked(
    anon: httpx.AsyncClient, world: World
) -> None:
    # 128 characters: as long as piccolo lets a password be; a wrong one, so 401.
    response = await anon.post("/api/auth/login", json={"username": world.users["admin"],
                                                        "password": "p" * 128})
    assert_problem(response, 401, "bad_credentials")


@pytest.mark.filterwarnings("ignore:If running sessions in production")
async def test_the_configuration_admin_refuses_a_country_that_iso_3166_does_not_list(
    anon: httpx.AsyncClient, world: World
) -> None:
    from comptoir.config.models import Location, TaxRate
    from tests.config.test_admin import admin_sign_in

    assert (await admin_sign_in(anon, world.users["admin"], PASSWORD)).status_code == 200
    csrf = {"X-CSRFToken": anon.cookies["csrftoken"]}
    created = await anon.post("/admin/api/tables/config_tax_rate/", headers=csrf,
                              json={"country": "XX", "rate_bp": 500, "name": "Nowhere VAT"})
    assert created.status_code == 400, created.text
    assert "XX" in created.text
    assert await TaxRate.count().where(TaxRate.country == "XX") == 0

    lyon = await Location.select(Location.id).where(Location.code == "ST-LYON-01").first()
    assert lyon is not None
    edited = await anon.patch(f"/admin/api/tables/config_location/{lyon['id']}/",
                              headers=csrf, json={"country": "XX"})
    assert edited.status_code == 400, edited.text
    assert await Location.count().where(Location.country == "XX") == 0
    # A real country still saves (in lower case, stored as ISO writes it).
    created = await anon.post("/admin/api/tables/config_tax_rate/", headers=csrf,
                              json={"country": "lu", "rate_bp": 1700, "name": "TVA LU"})
    assert created.status_code == 201, created.text
    assert await TaxRate.count().where(TaxRate.country == "LU") == 1
    await TaxRate.delete().where(TaxRate.country == "LU")


class _LaxIn(msgspec.Struct):
    note: str
    extra: dict[str, Any] = {}


def test_an_app_whose_body_type_is_lax_does_not_start() -> None:
    # The rule is checked when handlers are registered, so a new endpoint cannot forget it.
    from litestar import Litestar, post

    from comptoir.request_body import StrictBody

    @post("/lax", dto=StrictBody, return_dto=None)
    async def lax(data: _LaxIn) -> None:
        return None

    with pytest.raises(TypeError) as refused:
        Litestar([lax])
    assert "_LaxIn needs forbid_unknown_fields=True" in str(refused.value)
    assert "_LaxIn.note needs a max_length" in str(refused.value)
    assert "_LaxIn.extra needs a type, not Any" in str(refused.value)
