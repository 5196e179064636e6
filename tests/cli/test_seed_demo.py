"""``comptoir seed-demo`` on a database of its own: a believable retailer, loaded once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from piccolo.apps.user.tables import BaseUser
from sqlalchemy import text

from comptoir.db.engine import create_engine
from comptoir.seed import demo_barcode, ean13_check_digit, load_demo, plan_catalog, plan_stock
from comptoir.settings import load_settings
from tests.cli.conftest import run_comptoir, scratch_database
from tests.conftest import IS_POSTGRES
from tests.support import free_port, stop_process, wait_ready

# Metropolitan France, roughly: every demo location must be on the map there.
FRANCE_LATITUDES = (41.3, 51.1)
FRANCE_LONGITUDES = (-5.2, 9.6)
LOGIN_LINE = re.compile(r"^\s*(admin|manager|associate)\s+username (\S+)\s+password (\S+)", re.M)


def is_valid_ean13(code: str) -> bool:
    """GS1's rule, read from the right: weights 3, 1, 3, … on the digits before the check."""
    if not re.fullmatch(r"\d{13}", code):
        return False
    body, check = code[:12], int(code[12])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (total + check) % 10 == 0


def is_valid_french_vat_number(vat: str) -> bool:
    match = re.fullmatch(r"FR(\d{2})(\d{9})", vat)
    return bool(match) and int(match[1]) == (12 + 3 * (int(match[2]) % 97)) % 97  # type: ignore[index]


def all_gapless(numbers: list[str], prefix: str) -> bool:
    """Numbers PREFIX-YYYY-NNNNNN that run 1, 2, 3… in each year, none twice."""
    serials: dict[str, list[int]] = {}
    for number in numbers:
        match = re.fullmatch(rf"{prefix}-(\d{{4}})-(\d{{6}})", number)
        assert match, number
        serials.setdefault(match[1], []).append(int(match[2]))
    return all(sorted(run) == list(range(1, len(run) + 1)) for run in serials.values())


def password_matches(password: str, stored: str) -> bool:
    _algorithm, iterations, salt, _hash = BaseUser.split_stored_password(stored)
    return bool(BaseUser.hash_password(password, salt, int(iterations)) == stored)


async def snapshot(database_url: str, var_dir: Path) -> dict[str, Any]:
    """Everything the seed writes, read back straight from the database."""
    settings = load_settings({"COMPTOIR_DATABASE_URL": database_url,
                              "COMPTOIR_VAR_DIR": str(var_dir)})
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            async def rows(sql: str) -> list[tuple[Any, ...]]:
                return [tuple(r) for r in (await conn.execute(text(sql))).all()]

            return {
                "locations": await rows(
                    "SELECT code, kind, city, latitude, longitude, timezone, ships, "
                    "serves_pickups, pickup_hold_days, daily_order_capacity, opening_hours "
                    "FROM config_location ORDER BY code"),
                "channels": await rows(
                    "SELECT code, kind, currency, prices_include_tax FROM config_channel "
                    "ORDER BY code"),
                "shipping_rates": await rows(
                    "SELECT c.code, r.method, r.fee, r.free_from FROM config_shipping_rate r "
                    "JOIN config_channel c ON c.id = r.channel ORDER BY c.code, r.method"),
                "vat": dict(await rows("SELECT country, rate_bp FROM config_tax_rate "
                                       "WHERE tax_class = 'standard'")),
                "vat_fr": dict(await rows("SELECT tax_class, rate_bp FROM config_tax_rate "
                                          "WHERE country = 'FR'")),
                "tax_classes": dict(await rows(
                    "SELECT tax_class, COUNT(*) FROM variants GROUP BY tax_class")),
                # Orders whose lines are taxed at more than one rate: a mixed basket.
                "mixed_baskets": await rows(
                    "SELECT order_id FROM order_lines GROUP BY order_id "
                    "HAVING COUNT(DISTINCT vat_rate_bp) > 1"),
                "company": await rows(
                    "SELECT legal_name, vat_number, city, legal_form, share_capital, siren, "
                    "siret, rcs FROM config_company"),
                "invoices": await rows(
                    "SELECT number, order_number, issued_by, gross, status FROM invoices "
                    "ORDER BY number"),
                "credit_notes": await rows(
                    "SELECT number, invoice_number, reason, issued_by, gross FROM credit_notes "
                    "ORDER BY number"),
                # Invoices whose goods are taxed at more than one rate (shipping aside).
                "mixed_invoices": await rows(
                    "SELECT invoice_id FROM invoiced_lines WHERE credit_note_id IS NULL "
                    "AND NOT shipping GROUP BY invoice_id HAVING COUNT(DISTINCT vat_rate_bp) > 1"),
                # Orders whose goods all left but that have no invoice.
                "uninvoiced": await rows(
                    "SELECT number FROM orders o WHERE status IN ('shipped', 'completed') "
                    "AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.id)"),
                "staff": await rows(
                    "SELECT u.username, p.role, l.code, u.password, u.admin "
                    "FROM config_staff_profile p JOIN piccolo_user u ON u.id = p.user "
                    "LEFT JOIN config_location l ON l.id = p.location ORDER BY u.username"),
                "products": await rows("SELECT name, category, brand FROM products ORDER BY name"),
                "variants": await rows(
                    "SELECT sku, barcode, price, currency, weight_g, options FROM variants "
                    "ORDER BY sku"),
                "levels": await rows(
                    "SELECT sku, location, on_hand, reserved FROM inventory_levels "
                    "ORDER BY sku, location"),
                "receipts": await rows(
                    "SELECT sku, location, quantity FROM inventory_movements "
                    "WHERE kind = 'receipt' ORDER BY sku, location"),
                # Every reserved unit is a unit some order holds there (and nothing else).
                "off_reservation_levels": await rows(
                    "SELECT l.sku, l.location FROM inventory_levels l WHERE l.reserved <> "
                    "(SELECT COALESCE(SUM(a.quantity), 0) FROM order_allocations a "
                    " WHERE a.sku = l.sku AND a.location = l.location)"),
                "routing_policies": await rows(
                    "SELECT max_splits, stores_may_ship FROM config_routing_policy"),
                "orders": await rows(
                    "SELECT channel, status, created_at FROM orders ORDER BY created_at"),
                "off_ledger_levels": await rows(
                    "SELECT l.sku, l.location FROM inventory_levels l WHERE l.on_hand <> "
                    "(SELECT COALESCE(SUM(m.quantity), 0) FROM inventory_movements m "
                    " WHERE m.sku = l.sku AND m.location = l.location)"),
                "movements": await rows(
                    "SELECT kind, COUNT(*) FROM inventory_movements GROUP BY kind"),
                "events": await rows(
                    "SELECT type, COUNT(*) FROM events GROUP BY type ORDER BY type"),
            }
    finally:
        await engine.dispose()


async def what_the_dashboard_reads(env: dict[str, str], cwd: Path, username: str,
                                   password: str) -> dict[str, list[dict[str, Any]]]:
    """The orders API the managers' dashboard reads, from ``comptoir serve`` on the seeded
    database: every order (page by page), the last week's, and those on hold."""
    port, log = free_port(), cwd / "serve.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "comptoir", "serve", "--no-migrate", "--host", "127.0.0.1",
            "--port", str(port), env={**os.environ, **env}, cwd=cwd, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, process, lambda: log.read_text(errors="replace")[-3000:])
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            signed_in = await client.post("/api/auth/login",
                                          json={"username": username, "password": password})
            assert signed_in.status_code == 200, signed_in.text

            async def orders(**query: str) -> list[dict[str, Any]]:
                items: list[dict[str, Any]] = []
                cursor: dict[str, str] = {}
                while True:
                    page = await client.get("/api/orders", params={"limit": "100", **query,
                                                                   **cursor})
                    assert page.status_code == 200, page.text
                    items.extend(page.json()["items"])
                    if not page.json()["next_cursor"]:
                        return items
                    cursor = {"cursor": page.json()["next_cursor"]}

            week_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).isoformat()
            return {"all": await orders(), "last_week": await orders(**{"from": week_ago}),
                    "on_hold": await orders(status="on_hold")}
    finally:
        await stop_process(process)


@pytest.mark.parametrize("database", [
    # Each CI run seeds the kind of database it tests; the SQLite run covers the embedded default.
    pytest.param("sqlite", marks=pytest.mark.skipif(IS_POSTGRES, reason="the PostgreSQL run "
                                                    "seeds PostgreSQL")),
    pytest.param("postgresql", marks=pytest.mark.postgres),
])
async def test_seed_demo_loads_a_french_retailer_once(tmp_path: Path, database: str) -> None:
    async with scratch_database(database, tmp_path) as url:
        env = {"COMPTOIR_DATABASE_URL": url, "COMPTOIR_VAR_DIR": str(tmp_path / "var")}
        not_migrated = await run_comptoir("seed-demo", env=env, cwd=tmp_path)
        assert not_migrated.returncode == 1
        assert "comptoir migrate" in not_migrated.stderr

        migrated = await run_comptoir("migrate", env=env, cwd=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        first = await run_comptoir("seed-demo", env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        data = await snapshot(url, tmp_path / "var")

        # The network: 2 warehouses and 6 stores in French cities, on the map, in Paris time.
        kinds = [loc[1] for loc in data["locations"]]
        assert kinds.count("warehouse") == 2
        assert kinds.count("store") == 6
        assert len({loc[2] for loc in data["locations"] if loc[1] == "store"}) == 6
        for code, kind, city, lat, lon, tz, _ships, pickups, hold_days, capacity, hours in (
            data["locations"]
        ):
            assert FRANCE_LATITUDES[0] < lat < FRANCE_LATITUDES[1], code
            assert FRANCE_LONGITUDES[0] < lon < FRANCE_LONGITUDES[1], code
            assert tz == "Europe/Paris" and city and hours and capacity > 0
            if kind == "store":
                assert pickups and hold_days > 0, code

        # Channels in euros with their delivery fees, VAT, the company for invoices.
        assert {(c[0], c[1]) for c in data["channels"]} == {
            ("web", "web"), ("marketplace", "marketplace"), ("pos", "pos"), ("phone", "phone")}
        assert {c[2] for c in data["channels"]} == {"EUR"}
        assert ("web", "pickup", 0, None) in data["shipping_rates"]
        assert data["vat"]["FR"] == 2000
        assert len(data["vat"]) >= 4
        assert data["vat_fr"] == {"standard": 2000, "reduced": 1000, "super_reduced": 550,
                                  "zero": 0}
        [(legal_name, vat_number, city, legal_form, capital, siren, siret, rcs)] = data["company"]
        assert legal_name and is_valid_french_vat_number(vat_number)
        assert legal_form == "SAS" and capital and vat_number.endswith(siren)
        assert re.fullmatch(r"\d{9}", siren) and re.fullmatch(rf"{siren}\d{{5}}", siret)
        assert rcs == f"RCS {city} {siren[:3]} {siren[3:6]} {siren[6:]}"

        # The catalog: enough to browse, every SKU priced, weighed and scannable.
        assert len(data["products"]) >= 140
        assert len(data["variants"]) >= 450
        for sku, barcode, price, currency, weight_g, _options in data["variants"]:
            assert is_valid_ean13(barcode), sku
            assert price > 0 and currency == "EUR" and weight_g > 0, sku
        assert len({v[1] for v in data["variants"]}) == len(data["variants"])
        # Books and food at 5.5 %, plants at 10 %, the rest at 20 %: the demo mixes rates.
        assert data["tax_classes"]["super_reduced"] >= 5 and data["tax_classes"]["reduced"] >= 2
        assert data["tax_classes"]["standard"] >= 450

        # Stock at every location, every unit of it in the ledger: one opening receipt per
        # level, then the month's sales; what is reserved is what the open orders hold.
        stocked = {level[1] for level in data["levels"]}
        assert stocked == {loc[0] for loc in data["locations"]}
        assert [(r[0], r[1]) for r in data["receipts"]] == [(lv[0], lv[1]) for lv in data["levels"]]
        assert all(receipt[2] > 0 for receipt in data["receipts"])
        assert all(level[2] >= level[3] >= 0 for level in data["levels"])  # never oversold
        assert {level[0] for level in data["levels"]} == {v[0] for v in data["variants"]}
        assert data["off_ledger_levels"] == []
        assert data["off_reservation_levels"] == []
        movements = dict(data["movements"])
        assert movements.pop("receipt") == len(data["levels"])
        assert set(movements) == {"sale"}, movements
        # The routing policy is a row the admin can edit, not Comptoir's invisible defaults.
        assert len(data["routing_policies"]) == 1

        # One account per role, and the logins printed are the ones that work.
        roles = {member[1]: member for member in data["staff"]}
        assert sorted(roles) == ["admin", "associate", "manager"]
        assert roles["admin"][4]  # the admin can also use /admin/
        store_codes = {loc[0] for loc in data["locations"] if loc[1] == "store"}
        assert roles["associate"][2] in store_codes
        printed = {role: (username, password)
                   for role, username, password in LOGIN_LINE.findall(first.stdout)}
        assert sorted(printed) == ["admin", "associate", "manager"]
        for role, (username, password) in printed.items():
            assert roles[role][0] == username
            assert password_matches(password, roles[role][3]), role

        # A month of history from every channel, in every state, on most days of the month.
        orders = data["orders"]
        assert {order[0] for order in orders} == {"web", "marketplace", "pos", "phone"}
        assert {"shipped", "completed", "cancelled", "on_hold"} <= {order[1] for order in orders}
        assert len({str(order[2])[:10] for order in orders}) >= 20
        assert re.search(rf"orders\s+{len(orders)} over (2[89]|3[01]) days", first.stdout)
        assert data["mixed_baskets"], "no order of the month mixes VAT rates"
        # Invoiced as the goods left, numbered without a gap in each year; one of them mixes
        # rates; and the manager's credit note for one unit of a delivered order.
        invoices = data["invoices"]
        assert len(invoices) >= 20 and data["uninvoiced"] == []
        assert all_gapless([row[0] for row in invoices], "FA")
        assert data["mixed_invoices"], "no invoice mixes VAT rates"
        [(note, invoiced, reason, issued_by, gross)] = data["credit_notes"]
        assert all_gapless([note], "AV") and reason and "manager" in issued_by
        credited = next(row for row in invoices if row[0] == invoiced)
        assert 0 < gross < credited[3] and credited[4] == "partially_credited"
        assert f"invoices    {len(invoices)}, credit notes 1" in first.stdout
        # ... and the managers' dashboard shows it: not all zeros.
        board = await what_the_dashboard_reads(env, tmp_path, *printed["manager"])
        assert len(board["all"]) == len(orders)
        assert len({row["status"] for row in board["all"]}) >= 4
        assert len({row["created_at"][:10] for row in board["all"]}) >= 20
        assert board["last_week"] and board["on_hold"]
        assert {row["channel"] for row in board["last_week"]} >= {"web", "marketplace"}

        # Again: nothing changes, and it says so, with the same logins.
        second = await run_comptoir("seed-demo", env=env, cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert "already seeded" in second.stdout
        assert LOGIN_LINE.findall(second.stdout) == LOGIN_LINE.findall(first.stdout)
        assert await snapshot(url, tmp_path / "var") == data


def test_barcode_check_digits_follow_gs1() -> None:
    assert ean13_check_digit("400638133393") == 1  # 4006381333931, a printed EAN-13
    assert ean13_check_digit("978020137962") == 4  # ISBN 978-0-201-37962-4
    assert all(is_valid_ean13(demo_barcode(sku)) for sku in ("TSH-LEON-BLA-M", "X", "é-1"))


def test_the_demo_catalog_is_the_same_on_every_run_and_complete() -> None:
    demo = load_demo()
    catalog = plan_catalog(demo)
    assert plan_catalog(load_demo()) == catalog  # what makes a second run find it all there
    assert plan_stock(catalog, demo.locations) == plan_stock(catalog, demo.locations)
    variants = [v for product in catalog for v in product.variants]
    assert len(catalog) >= 140 and len(variants) >= 450
    assert len({v.sku for v in variants}) == len({v.barcode for v in variants}) == len(variants)
    # A sized product comes in every size of its family, all of one colour.
    sweater = next(p for p in catalog if p.name.startswith("Pull col rond Marcel"))
    assert [v.options["size"] for v in sweater.variants] == ["XS", "S", "M", "L", "XL"]
    assert len({v.options["colour"] for v in sweater.variants}) == 1
    # Bigger sizes of household linen cost more.
    duvet = next(p for p in catalog if p.name.startswith("Housse de couette Lina"))
    prices = [v.price for v in duvet.variants]
    assert prices == sorted(prices) and prices[0] < prices[-1]


def test_the_months_history_is_the_same_for_the_same_moment_and_never_in_the_future() -> None:
    from comptoir.seed.history import _plan
    from comptoir.seed.history_plan import HISTORY_DAYS

    demo = load_demo()
    now = dt.datetime(2026, 6, 17, 15, 30, tzinfo=dt.UTC)  # a Wednesday afternoon
    orders = _plan(demo, now)
    assert _plan(demo, now) == orders
    assert len({order.ref for order in orders}) == len(orders)
    assert {order.channel for order in orders} == {"web", "marketplace", "pos", "phone"}
    steps = [step for order in orders for step in order.steps]
    assert all(now - dt.timedelta(days=HISTORY_DAYS + 1) < step.at < now for step in steps)
    for order in orders:
        assert order.steps[0].kind == "capture" and order.steps[0].at == order.placed_at
        assert [s.at for s in order.steps] == sorted(s.at for s in order.steps), order.ref
    # Every fate, and the recent orders half-way through theirs.
    last = {order.steps[-1].kind for order in orders}
    assert {"ship", "handover", "cancel", "hold"} <= last
    assert last & {"capture", "pick", "pack", "ready", "ship_part"}
    # People order at the hours they shop (Paris time), not at 4 in the morning.
    hours = {order.placed_at.astimezone(ZoneInfo("Europe/Paris")).hour for order in orders}
    assert hours <= set(range(7, 24))
