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


async def test_the_admin_names_tables_and_columns_in_the_retailers_words_in_french_and_english(
    anon: httpx.AsyncClient, world: World
) -> None:
    assert (await admin_sign_in(anon, world.users["admin"], PASSWORD)).status_code == 200
    french = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}
    english = {"Accept-Language": "en-GB,en;q=0.9"}

    tables = (await anon.get("/admin/api/tables/")).json()
    assert {"config_routing_policy", "config_staff_profile", "piccolo_user"} <= set(tables)
    menu = (await anon.get("/admin/api/tables/grouped/", headers=french)).json()["grouped"]
    assert "config_location" in menu["Réseau : magasins, entrepôts, transporteurs"]
    assert "config_routing_policy" in menu["Attribution des commandes"]
    assert set(menu["Personnel"]) == {"config_staff_profile", "piccolo_user"}
    menu = (await anon.get("/admin/api/tables/grouped/", headers=english)).json()["grouped"]
    assert "config_routing_policy" in menu["Order routing"]

    location = (await anon.get("/admin/api/tables/config_location/schema/",
                               headers=french)).json()
    titles = {name: column["title"] for name, column in location["properties"].items()}
    assert titles["name"] == "Nom" and titles["postal_code"] == "Code postal"
    assert titles["serves_pickups"] == "Retrait en magasin"
    assert titles["daily_order_capacity"] == "Capacité (commandes par jour)"
    assert location["extra"]["help_text"].startswith("Magasins et entrepôts — ")
    policy = (await anon.get("/admin/api/tables/config_routing_policy/schema/",
                             headers=english)).json()
    assert policy["properties"]["max_splits"]["title"] == "Most locations per order"
    assert policy["properties"]["max_splits"]["extra"]["help_text"] == "1: never split."
    # Without a language, English (the ID-check help a channel's page has always shown).
    channel = (await anon.get("/admin/api/tables/config_channel/schema/")).json()
    assert channel["properties"]["id_check_above"]["title"] == "ID check above"


async def test_the_admin_shows_what_a_foreign_key_points_to_by_name(
    anon: httpx.AsyncClient, world: World
) -> None:
    assert (await admin_sign_in(anon, world.users["admin"], PASSWORD)).status_code == 200
    profiles = await anon.get("/admin/api/tables/config_staff_profile/",
                              params={"__readable": "true", "__page_size": "100"})
    assert profiles.status_code == 200, profiles.text
    by_user = {row["user_readable"]: row for row in profiles.json()["rows"]}
    associate = by_user[world.users["associate"]]
    assert associate["location_readable"] == "Comptoir Lyon Presqu'île"
    assert by_user[world.users["manager"]]["location_readable"] in (None, "")

    rates = await anon.get("/admin/api/tables/config_shipping_rate/",
                           params={"__readable": "true"})
    assert {row["channel_readable"] for row in rates.json()["rows"]} == {
        "Boutique en ligne"}


async def test_a_staff_member_is_added_and_changed_in_one_form(
    anon: httpx.AsyncClient, world: World
) -> None:
    from piccolo.apps.user.tables import BaseUser

    from comptoir.config.models import StaffProfile

    assert (await admin_sign_in(anon, world.users["admin"], PASSWORD)).status_code == 200
    csrf = {"X-CSRFToken": anon.cookies["csrftoken"], "Accept-Language": "fr"}
    forms = (await anon.get("/admin/api/forms/")).json()
    [form] = [f for f in forms if f["name"] == "Membre du personnel (staff member)"]
    path = f"/admin/api/forms/{form['slug']}/"
    schema = (await anon.get(f"{path}schema/")).json()
    assert {"username", "role", "location", "email", "active", "password"} <= set(
        schema["properties"])

    try:
        created = await anon.post(path, headers=csrf, json={
            "username": "lea", "role": "associate", "location": "ST-PARIS-01",
            "email": "lea@example.fr", "password": "vendeuse-2026"})
        assert created.status_code == 200, created.text
        assert "créé" in created.text

        # Promoted to manager, moved to Lyon, new e-mail: account and profile, at once.
        changed = await anon.post(path, headers=csrf, json={
            "username": "lea", "role": "admin", "location": "ST-LYON-01",
            "email": "lea.martin@example.fr", "active": True})
        assert changed.status_code == 200, changed.text
        user = await BaseUser.select().where(BaseUser.username == "lea").first()
        assert user is not None
        assert user["email"] == "lea.martin@example.fr" and user["admin"] and user["active"]
        profile = await StaffProfile.select(StaffProfile.role,
                                            StaffProfile.location.code.as_alias("code")).where(
            StaffProfile.user == user["id"]).first()
        assert profile == {"role": "admin", "code": "ST-LYON-01"}

        # A refusal says why, in the form, and changes nothing.
        refused = await anon.post(path, headers=csrf, json={
            "username": "lea", "role": "associate", "location": None, "email": ""})
        assert refused.status_code == 422
        assert "location" in refused.json()["custom_form_error"]
        assert (await BaseUser.select(BaseUser.admin).where(
            BaseUser.username == "lea").first()) == {"admin": True}
    finally:
        lea = await BaseUser.select(BaseUser.id).where(BaseUser.username == "lea").first()
        if lea is not None:
            await StaffProfile.delete().where(StaffProfile.user == lea["id"])
            await BaseUser.delete().where(BaseUser.id == lea["id"])


async def test_an_admin_sets_a_country_s_rate_per_tax_class(
    anon: httpx.AsyncClient, world: World
) -> None:
    from comptoir.config import service as config
    from comptoir.config.models import TaxRate

    assert (await admin_sign_in(anon, world.users["admin"], PASSWORD)).status_code == 200
    csrf = {"X-CSRFToken": anon.cookies["csrftoken"]}
    path = "/admin/api/tables/config_tax_rate/"
    try:
        standard = await anon.post(path, headers=csrf,
                                   json={"country": "BE", "rate_bp": 2100, "name": "TVA"})
        assert standard.status_code == 201, standard.text  # no class: the standard rate
        books = await anon.post(path, headers=csrf, json={
            "country": "BE", "tax_class": "super_reduced", "rate_bp": 600, "name": "TVA"})
        assert books.status_code == 201, books.text
        unknown = await anon.post(path, headers=csrf, json={
            "country": "BE", "tax_class": "luxury", "rate_bp": 3300, "name": "TVA"})
        assert unknown.status_code == 400 and "luxury" in unknown.text
        again = await anon.post(path, headers=csrf, json={
            "country": "BE", "tax_class": "super_reduced", "rate_bp": 550, "name": "TVA"})
        assert again.status_code >= 400  # one rate per country and class
        config.invalidate()
        assert await config.vat_rates("be") == {"standard": 2100, "super_reduced": 600}
        assert await config.vat_rate_bp("BE") == 2100
    finally:
        await TaxRate.delete().where(TaxRate.country == "BE")
        config.invalidate()
