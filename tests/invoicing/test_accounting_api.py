"""The accounting export through the API and the command line: a period's invoices and
credit notes as FEC (balanced entries), CSV or JSON; bad periods and formats refused."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import os
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.invoicing.conftest import ship

TODAY = dt.datetime.now(ZoneInfo("Europe/Paris")).date()


async def comptoir(*args: str) -> tuple[int, str, str]:
    """Run the ``comptoir`` command line on the test database: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "comptoir", *args, env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _invoice_and_credit_note(manager: httpx.AsyncClient, catalog: Any,
                                   packed: Any) -> tuple[str, str]:
    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 3))
    assert (await ship(manager, work["WH-PARIS"], "6A01")).status_code == 200
    [item] = (await manager.get("/api/invoices", params={"order": number})).json()["items"]
    note = await manager.post(f"/api/invoices/{item['number']}/credit-notes",
                              json={"lines": [{"position": 1, "quantity": 1}],
                                    "reason": "Taille trop petite"})
    assert note.status_code == 201, note.text
    return item["number"], note.json()["number"]


async def test_a_period_exports_as_balanced_fec_entries_csv_and_json(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, company: Any,
) -> None:
    invoice, credit_note = await _invoice_and_credit_note(manager, catalog, packed)
    period = {"from": TODAY.isoformat(), "to": TODAY.isoformat()}

    fec = await manager.get("/api/exports/accounting", params=period)
    assert fec.status_code == 200, fec.text
    assert fec.headers["content-type"].startswith("text/plain; charset=iso-8859-15")
    assert f'{company["siren"]}FEC{TODAY:%Y%m%d}.txt' in fec.headers["content-disposition"]
    header, *lines = fec.content.decode("iso-8859-15").rstrip("\r\n").split("\r\n")
    assert len(header.split("\t")) == 18
    entries: dict[str, list[list[str]]] = {}
    for line in lines:
        cells = line.split("\t")
        entries.setdefault(cells[8], []).append(cells)  # PieceRef: the document's number
    assert set(entries) == {invoice, credit_note}
    for cells in entries.values():
        debit = sum(int(c[11].replace(",", "")) for c in cells)
        credit = sum(int(c[12].replace(",", "")) for c in cells)
        assert debit == credit > 0

    table = await manager.get("/api/exports/accounting", params={**period, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [(r["number"], r["kind"]) for r in rows] == [(invoice, "invoice"),
                                                         (credit_note, "credit_note")]
    assert int(rows[1]["gross"]) < 0 < int(rows[0]["gross"])
    as_json = (await manager.get("/api/exports/accounting",
                                 params={**period, "format": "JSON"})).json()
    assert [r["number"] for r in as_json] == [invoice, credit_note]

    before = await manager.get("/api/exports/accounting", params={
        "from": "2001-01-01", "to": "2001-01-31", "format": "csv"})
    assert before.status_code == 200 and len(before.text.splitlines()) == 1  # header only


async def test_bad_periods_and_formats_are_refused_with_their_code(
    manager: httpx.AsyncClient, client_for: Any,
) -> None:
    cases = {
        "unknown_export_format": {"from": "2026-01-01", "to": "2026-01-31", "format": "xlsx"},
        "invalid_date_range": {"from": "2026-02-01", "to": "2026-01-01"},
        "period_required": {"from": "2026-02-01"},
        "period_too_long": {"from": "2000-01-01", "to": "2026-01-01"},
    }
    for code, params in cases.items():
        answer = await manager.get("/api/exports/accounting", params=params)
        assert answer.status_code == 422, (code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == code
    bad_day = await manager.get("/api/exports/accounting", params={"from": "2026-13-01",
                                                                   "to": "2026-12-01"})
    assert bad_day.status_code == 400
    associate = await client_for("associate")
    assert (await associate.get("/api/exports/accounting",
                                params={"from": "2026-01-01", "to": "2026-01-31"})
            ).status_code == 403


async def test_the_command_line_writes_the_same_export(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, company: Any, tmp_path: Path,
) -> None:
    invoice, credit_note = await _invoice_and_credit_note(manager, catalog, packed)
    target = tmp_path / "export.csv"

    code, out, err = await comptoir(
        "export-accounting", "--from", TODAY.isoformat(), "--to", TODAY.isoformat(),
        "--format", "csv", "--output", str(target))

    assert code == 0, err
    assert "2 documents" in out
    via_api = await manager.get("/api/exports/accounting", params={
        "from": TODAY.isoformat(), "to": TODAY.isoformat(), "format": "csv"})
    assert target.read_text() == via_api.text
    assert invoice in via_api.text and credit_note in via_api.text
    code, _out, err = await comptoir("export-accounting", "--from", "2026-02-01",
                                     "--to", "2026-01-01")
    assert code != 0 and "after it ends" in err
