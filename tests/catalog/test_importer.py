"""``comptoir import-catalog``: good rows imported, bad rows named, a second run updates."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import pytest

from comptoir.catalog.import_file import (
    CatalogFileError,
    ImportReport,
    RowRejected,
    parse_catalog_csv,
    parse_price,
)
from comptoir.catalog.importer import ProgressBar, import_catalog, import_catalog_cmd
from tests.conftest import RowCounts

HEADER = "product_name,sku,price,currency,barcode,size,colour,weight_g,brand,category\n"
CATALOG = HEADER + """\
Marinière,MAR-M,39.90,EUR,3760000000011,M,écru,280,Armor,Hauts
Marinière,MAR-L,"39,90",,3760000000028,L,écru,,Armor,Hauts
Pull Camionneur,PUL-S,69,EUR,,S,gris,650,Armor,Pulls
Pull Camionneur,PUL-M,-5,EUR,,M,gris,650,Armor,Pulls
Béret,BER-1,19.999,EUR,,,,,,
Béret,BER-2,12,EURO,,,,,,
Béret,MAR-M,12,EUR,,,,,,
,ORPHAN-1,12,EUR,,,,,,

Béret,BER-3,12,EUR,3760000000011,,,,,
Béret,BER 4,12,EUR,,,,,,
Béret,BER-5,1500,JPY,,,,,,
Béret,BER-6,8.50,EUR,,,,abc,,
Béret,BER-7,5,EUR,999,,,,,
"""
GOOD = {"MAR-M", "MAR-L", "PUL-S", "BER-5"}
# line -> words the reason must contain
REJECTED = {
    5: "negative",
    6: "decimals",
    7: "currency",
    8: "line 2",
    9: "product_name",
    11: "line 2",
    12: "SKU",
    14: "weight_g",
    15: "OLD-1",  # the barcode belongs to a SKU already in the database
}


async def _import(sessionmaker: Any, text: str, **kwargs: Any) -> ImportReport:
    return await import_catalog(sessionmaker, text, actor="import:test", **kwargs)


async def _products(manager: Any) -> dict[str, dict[str, Any]]:
    page = (await manager.get("/api/products", params={"limit": 200})).json()
    return {p["name"]: p for p in page["items"]}


async def test_import_creates_good_rows_and_names_every_rejected_line(
    sessionmaker: Any, catalog: Any, manager: Any
) -> None:
    await catalog.add("OLD-1", name="Ancien", barcode="999")
    report = await _import(sessionmaker, CATALOG)

    assert (report.created, report.updated, report.products_created) == (4, 0, 3)
    assert {r.line: r.sku for r in report.rejected} == {
        5: "PUL-M", 6: "BER-1", 7: "BER-2", 8: "MAR-M", 9: "ORPHAN-1", 11: "BER-3",
        12: "BER 4", 14: "BER-6", 15: "BER-7"}
    for rejection in report.rejected:
        assert REJECTED[rejection.line].lower() in rejection.reason.lower(), rejection
    summary = report.summary("catalog.csv")
    assert "4 SKUs created (3 new products), 0 updated, 9 rejected" in summary
    assert "line 15 (SKU BER-7): barcode 999 already belongs to SKU OLD-1" in summary

    products = await _products(manager)
    assert set(products) == {"Ancien", "Marinière", "Pull Camionneur", "Béret"}
    mariniere = products["Marinière"]
    assert (mariniere["brand"], mariniere["category"]) == ("Armor", "Hauts")
    variants = {v["sku"]: v for v in mariniere["variants"]}
    assert set(variants) == {"MAR-L", "MAR-M"}
    assert variants["MAR-M"]["price"] == 3990
    assert variants["MAR-L"]["price"] == 3990  # "39,90" with a decimal comma
    assert variants["MAR-M"]["options"] == {"size": "M", "colour": "écru"}
    assert variants["MAR-M"]["weight_g"] == 280
    assert variants["MAR-L"]["currency"] == "EUR"
    yen = (await manager.get("/api/skus/BER-5")).json()
    assert (yen["price"], yen["currency"]) == (1500, "JPY")  # yen have no minor unit
    # A bad row wrote nothing of itself.
    for sku in ("PUL-M", "BER-1", "BER-2", "ORPHAN-1", "BER-3", "BER-6", "BER-7"):
        assert (await manager.get(f"/api/skus/{sku}")).status_code == 404


async def test_importing_the_same_file_again_updates_and_never_duplicates(
    sessionmaker: Any, catalog: Any, row_counts: RowCounts, manager: Any
) -> None:
    await catalog.add("OLD-1", name="Ancien", barcode="999")
    await _import(sessionmaker, CATALOG)
    first = await row_counts()
    again = await _import(sessionmaker, CATALOG)
    assert (again.created, again.updated, again.products_created) == (0, 4, 0)
    assert len(again.rejected) == 9
    after = await row_counts()
    assert (after["products"], after["variants"]) == (first["products"], first["variants"])
    assert len(await _products(manager)) == 4


async def test_a_later_file_changes_prices_and_adds_sizes_to_the_same_product(
    sessionmaker: Any, manager: Any
) -> None:
    await _import(sessionmaker, CATALOG)
    report = await _import(sessionmaker, HEADER + """\
Marinière,MAR-M,35.00,,,,,,,
Marinière,MAR-XL,42,EUR,3760000000035,XL,écru,300,,
""")
    assert (report.created, report.updated, report.rejected) == (1, 1, [])
    mariniere = (await _products(manager))["Marinière"]
    variants = {v["sku"]: v for v in mariniere["variants"]}
    assert set(variants) == {"MAR-M", "MAR-L", "MAR-XL"}
    assert variants["MAR-M"]["price"] == 3500
    # Empty cells left the rest alone.
    assert variants["MAR-M"]["barcode"] == "3760000000011"
    assert variants["MAR-M"]["options"] == {"size": "M", "colour": "écru"}
    assert mariniere["brand"] == "Armor"


async def test_new_skus_join_the_existing_product_of_the_same_name(
    sessionmaker: Any, manager: Any, catalog: Any
) -> None:
    product_id = await catalog.add("CAS-1", name="Casquette")
    report = await _import(sessionmaker, HEADER + "casquette,CAS-2,15,EUR,,,,,,\n")
    assert (report.created, report.products_created) == (1, 0)
    assert (await manager.get("/api/skus/CAS-2")).json()["product_id"] == str(product_id)


async def test_a_semicolon_windows_1252_export_from_excel_is_read(
    tmp_path: Path, settings: Any, manager: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_bytes(
        "product_name;sku;price;colour\nMarinière;MAR-M;39,90;écru\n".encode("cp1252"))
    code = await import_catalog_cmd(settings, argparse.Namespace(file=path, dry_run=False))
    assert code == 0
    out = capsys.readouterr().out
    assert "1 SKUs created" in out and "Windows-1252" in out
    variant = (await manager.get("/api/skus/MAR-M")).json()
    assert (variant["product_name"], variant["price"], variant["options"]) == (
        "Marinière", 3990, {"colour": "écru"})


async def test_the_command_reports_rejections_and_exits_1(
    tmp_path: Path, settings: Any, capsys: pytest.CaptureFixture[str], catalog: Any
) -> None:
    await catalog.add("OLD-1", name="Ancien", barcode="999")
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG, encoding="utf-8")
    code = await import_catalog_cmd(settings, argparse.Namespace(file=path, dry_run=False))
    assert code == 1
    out = capsys.readouterr().out
    assert out.startswith("Imported catalog.csv: 4 SKUs created")
    assert "line 6 (SKU BER-1): price '19.999' has more than 2 decimals for EUR" in out


async def test_a_dry_run_checks_everything_and_writes_nothing(
    tmp_path: Path, settings: Any, row_counts: RowCounts, capsys: pytest.CaptureFixture[str],
    catalog: Any,
) -> None:
    await catalog.add("OLD-1", name="Ancien", barcode="999")
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG, encoding="utf-8")
    before = await row_counts()
    code = await import_catalog_cmd(settings, argparse.Namespace(file=path, dry_run=True))
    assert code == 1
    assert "dry run" in capsys.readouterr().out
    assert await row_counts() == before


async def test_a_file_without_the_required_columns_is_refused_whole(
    tmp_path: Path, settings: Any, row_counts: RowCounts, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("name,sku,prix\nBéret,BER-1,12\n", encoding="utf-8")
    before = await row_counts()
    code = await import_catalog_cmd(settings, argparse.Namespace(file=path, dry_run=False))
    assert code == 2
    assert "product_name, price" in capsys.readouterr().err
    assert await row_counts() == before
    missing = argparse.Namespace(file=tmp_path / "nope.csv", dry_run=False)
    assert await import_catalog_cmd(settings, missing) == 2


# --- pure parts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("19.99", "EUR", 1999), ("19,99", "EUR", 1999), ("20", "EUR", 2000), ("0.5", "EUR", 50),
     ("1500", "JPY", 1500), ("1.250", "KWD", 1250), ("007.10", "EUR", 710)],
)
def test_prices_are_read_as_currency_units(text: str, currency: str, minor: int) -> None:
    assert parse_price(text, currency) == minor


@pytest.mark.parametrize("text", ["19.999", "-5", "19,99 €", "1 299,00", "1.299,00", "abc", "1e3"])
def test_prices_that_are_not_plain_amounts_are_rejected(text: str) -> None:
    with pytest.raises(RowRejected):
        parse_price(text, "EUR")


def test_a_header_with_extra_columns_and_color_spelled_the_american_way_is_read() -> None:
    rows, report = parse_catalog_csv(
        "Product_Name,SKU,Price,Color,notes\nBéret,BER-1,12,rouge,à revoir\n")
    assert [r.variant.options for r in rows] == [{"colour": "rouge"}]
    assert report.notes == ["Ignored column(s): notes."]
    with pytest.raises(CatalogFileError, match="sku"):
        parse_catalog_csv("product_name,price\nBéret,12\n")


def test_the_progress_bar_draws_on_a_terminal_and_stays_quiet_otherwise() -> None:
    terminal = io.StringIO()
    bar = ProgressBar(terminal, enabled=True, width=10)
    bar.start(4)
    bar.advance(2)
    assert bar.render() == "importing [#####.....]  50% 2/4 rows"
    bar.advance(5)
    bar.finish()
    drawn = terminal.getvalue()
    assert drawn.startswith("\r") and "100% 4/4 rows" in drawn and drawn.endswith("\n")

    piped = io.StringIO()  # not a terminal: no control characters in a log file
    quiet = ProgressBar(piped)
    quiet.start(3)
    quiet.advance(3)
    quiet.finish()
    assert piped.getvalue() == ""


def test_the_command_is_listed_with_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    from comptoir.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["import-catalog", "catalog.csv", "--dry-run"])
    assert args.command == "import-catalog" and args.dry_run
    with pytest.raises(SystemExit):
        parser.parse_args(["import-catalog", "--help"])
    help_text = capsys.readouterr().out
    assert "19.99" in help_text and "product_name" in help_text


async def test_a_tax_class_column_sets_a_sku_s_class_and_an_empty_cell_keeps_it(
    sessionmaker: Any, manager: Any
) -> None:
    header = "product_name,sku,price,tax_class\n"
    report = await _import(sessionmaker, header + """\
Carnets de bord,LIV-1,29,super_reduced
Carnets de bord,LIV-2,31,
Olivier,PLT-1,39,luxury
""")
    assert (report.created, [r.line for r in report.rejected]) == (2, [4])
    assert "luxury" in report.rejected[0].reason
    book = {v["sku"]: v for v in (await _products(manager))["Carnets de bord"]["variants"]}
    assert (book["LIV-1"]["tax_class"], book["LIV-2"]["tax_class"]) == ("super_reduced",
                                                                        "standard")
    again = await _import(sessionmaker, header + "Carnets de bord,LIV-1,30,\n"
                                                 "Carnets de bord,LIV-2,31,reduced\n")
    assert (again.updated, again.rejected) == (2, [])
    book = {v["sku"]: v for v in (await _products(manager))["Carnets de bord"]["variants"]}
    assert (book["LIV-1"]["tax_class"], book["LIV-2"]["tax_class"]) == ("super_reduced",
                                                                        "reduced")
