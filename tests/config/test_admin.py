"""piccolo-admin at /admin/: admins sign in with their Comptoir account; nobody else gets in."""

from __future__ import annotations

import httpx
import pytest

from comptoir.config.models import Location
from tests.conftest import PASSWORD, World

# piccolo-admin warns on each sign-in when not told it runs behind HTTPS; tests run over http.
pytestmark = pytest.mark.filterwarnings("ignore:If running sessions in production")


async def admin_sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """Sign in the way piccolo-admin's own page does: a CSRF cookie first, then the form."""
    page = await client.get("/admin/")
    assert page.status_code == 200
    token = client.cookies["csrftoken"]  # piccolo's double-submit cookie, set on a safe request
    return await client.post(
        "/admin/public/login/",
        json={"username": username, "password": password},
        headers={"X-CSRFToken": token},
    )


async def test_admin_signs_in_to_the_admin_and_lists_locations(
    anon: httpx.AsyncClient, world: World
) -> None:
    signed_in = await admin_sign_in(anon, world.users["admin"], PASSWORD)
    assert signed_in.status_code == 200

    tables = await anon.get("/admin/api/tables/")
    assert tables.status_code == 200
    assert {"config_location", "config_channel", "config_company"} <= set(tables.json())

    locations = await anon.get("/admin/api/tables/config_location/")
    assert locations.status_code == 200
    codes = {row["code"] for row in locations.json()["rows"]}
    assert {"WH-PARIS", "ST-LYON-01"} <= codes


@pytest.mark.parametrize("role", ["manager", "associate"])
async def test_staff_who_are_not_admins_are_kept_out_of_the_admin(
    anon: httpx.AsyncClient, world: World, role: str
) -> None:
    await admin_sign_in(anon, world.users[role], PASSWORD)
    for path in ("/admin/api/tables/", "/admin/api/tables/config_location/"):
        response = await anon.get(path)
        assert response.status_code == 401, path
        assert "rows" not in response.text


async def test_a_wrong_password_does_not_open_the_admin(
    anon: httpx.AsyncClient, world: World
) -> None:
    refused = await admin_sign_in(anon, world.users["admin"], "not-the-password")
    assert refused.status_code == 401
    assert (await anon.get("/admin/api/tables/")).status_code == 401


async def test_anonymous_requests_to_the_admin_api_are_refused(anon: httpx.AsyncClient) -> None:
    for path in ("/admin/api/tables/", "/admin/api/tables/config_location/", "/admin/api/user/"):
        assert (await anon.get(path)).status_code == 401, path
    # A write without piccolo's CSRF token is refused by it; with the token, by its auth.
    new_location = {"code": "WH-INTRUDER", "name": "Intruder"}
    write = await anon.post("/admin/api/tables/config_location/", json=new_location)
    assert write.status_code == 403
    await anon.get("/admin/")
    write = await anon.post("/admin/api/tables/config_location/", json=new_location,
                            headers={"X-CSRFToken": anon.cookies["csrftoken"]})
    assert write.status_code == 401
    assert await Location.count().where(Location.code == "WH-INTRUDER") == 0


async def test_a_comptoir_staff_session_does_not_open_the_admin(
    admin: httpx.AsyncClient,
) -> None:
    # Signed in to Comptoir's API as an admin, but not to piccolo-admin: its API stays shut.
    assert (await admin.get("/api/auth/me")).status_code == 200
    assert (await admin.get("/admin/api/tables/")).status_code == 401


async def test_admin_without_trailing_slash_redirects(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/admin")
    assert response.status_code in (301, 302, 307, 308)
    assert response.headers["location"] == "/admin/"


async def test_an_admin_sets_the_channels_id_check_amount_in_the_admin(
    anon: httpx.AsyncClient, world: World
) -> None:
    from comptoir.config import service as config
    from comptoir.config.models import SalesChannel

    assert (await admin_sign_in(anon, world.users["admin"], PASSWORD)).status_code == 200
    schema = (await anon.get("/admin/api/tables/config_channel/schema/")).json()
    assert "ID check" in schema["properties"]["id_check_above"]["extra"]["help_text"]
    web = await SalesChannel.select(SalesChannel.id).where(SalesChannel.code == "web").first()
    assert web is not None
    try:
        changed = await anon.patch(f"/admin/api/tables/config_channel/{web['id']}/",
                                   json={"id_check_above": 50_000},
                                   headers={"X-CSRFToken": anon.cookies["csrftoken"]})
        assert changed.status_code == 200, changed.text
        config.invalidate()
        channel = await config.get_channel("web")
        assert channel is not None and channel.id_check_above == 50_000
    finally:
        await SalesChannel.update({SalesChannel.id_check_above: None}).where(
            SalesChannel.code == "web")
        config.invalidate()
