"""The day's reconciliation through the real API and the outbox: each situation a manager
must see lands in its section with its amounts, a clean day says nothing, the CSV says what
the JSON says, and a bad date is refused plainly."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import update

from comptoir.payments.providers.base import Operation
from tests.invoicing.conftest import ship
from tests.payments.conftest import Bank, card, payments

PARIS = ZoneInfo("Europe/Paris")
SECTIONS = ["left_not_captured", "left_without_payment", "captured_not_invoiced",
            "refunded_without_credit_note", "invoiced_differs", "pending_calls"]


def today() -> str:
    return dt.datetime.now(dt.UTC).astimezone(PARIS).date().isoformat()


async def report(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get("/api/reports/reconciliation",
                                params={"date": today(), "lang": "en", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert [s["section"] for s in body["sections"]] == SECTIONS
    return body


def section(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    found = next(s for s in body["sections"] if s["section"] == name)
    assert found["count"] == len(found["findings"])
    totals: dict[str, int] = {}
    for finding in found["findings"]:
        totals[finding["currency"]] = totals.get(finding["currency"], 0) + finding["amount"]
    assert {t["currency"]: t["amount"] for t in found["totals"]} == totals
    return found["findings"]  # type: ignore[no-any-return]


def figures(findings: list[dict[str, Any]]) -> list[tuple[str, int, int, int]]:
    return [(f["order_number"], f["amount"], f["expected"], f["actual"]) for f in findings]


def reported(body: dict[str, Any]) -> dict[str, list[str]]:
    """Section -> order numbers, for the sections that have something to say."""
    return {s["section"]: [f["order_number"] for f in s["findings"]]
            for s in body["sections"] if s["findings"]}


async def _total(client: httpx.AsyncClient, number: str) -> int:
    return int((await client.get(f"/api/orders/{number}")).json()["totals"]["total"])


async def test_a_day_where_everything_was_charged_and_invoiced_says_nothing(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, company: Any, bank: Bank,
    drain: Any,
) -> None:
    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 2), payment=card())
    await drain()
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    await drain()
    summary = (await payments(manager, number))["summary"]
    assert summary["status"] == "paid"

    body = await report(manager)
    assert reported(body) == {}
    assert body["clean"] is True
    assert body["date"] == today() and body["time_zone"] == "Europe/Paris"
    start = dt.datetime.fromisoformat(body["start"])
    assert start.astimezone(PARIS).time() == dt.time(0, 0)
    assert dt.datetime.fromisoformat(body["end"]) - start in (
        dt.timedelta(hours=23), dt.timedelta(hours=24), dt.timedelta(hours=25))


async def test_a_parcel_shipped_while_the_capture_failed_is_left_not_captured(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, company: Any, bank: Bank,
    drain: Any,
) -> None:
    await catalog.add("TEE", price=1200, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 2), payment=card())
    await drain()
    bank.fail_next.add(Operation.CAPTURE)
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    await drain()
    total = await _total(manager, number)
    assert [t["status"] for t in (await payments(manager, number))["transactions"]] == [
        "succeeded", "failed"]

    body = await report(manager)
    assert figures(section(body, "left_not_captured")) == [(number, total, total, 0)]
    # The invoice was issued as the parcel left: it states what was not charged.
    [differs] = section(body, "invoiced_differs")
    assert (differs["order_number"], differs["expected"], differs["actual"]) == (
        number, total, 0)
    assert [link["kind"] for link in differs["links"]] == ["order", "invoice"]
    assert differs["links"][0]["path"] == f"/orders/{number}"
    assert reported(body).keys() == {"left_not_captured", "invoiced_differs"}
    assert body["clean"] is False


async def test_goods_handed_over_on_an_order_with_no_payment_are_left_without_payment(
    manager: httpx.AsyncClient, web: httpx.AsyncClient, catalog: Any, work_for: Any,
    pickup_code: Any, bank: Bank, drain: Any,
) -> None:
    from tests.fulfillment.conftest import act
    from tests.orders.conftest import order_body, pickup

    await catalog.add("MUG", price=900, stock={"ST-LYON-01": 3})
    created = await web.post("/api/orders", json=order_body(
        ("MUG", 2), delivery=pickup("ST-LYON-01")))
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    [work] = (await work_for(number)).values()
    for step in ("pick", "pack", "ready-for-pickup"):
        assert (await act(manager, work, step)).status_code == 200, step
    handed = await act(manager, work, "handover", {"code": await pickup_code(number)})
    assert handed.status_code == 200, handed.text
    await drain()

    body = await report(manager)
    total = await _total(manager, number)
    assert figures(section(body, "left_without_payment")) == [(number, total, total, 0)]
    assert section(body, "left_not_captured") == []
    assert reported(body).keys() == {"left_without_payment"}


async def test_a_capture_with_no_invoice_because_the_company_is_not_configured(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, bank: Bank, drain: Any,
) -> None:
    await catalog.add("TEE", price=1500, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 1), payment=card())
    await drain()
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    await drain()
    total = await _total(manager, number)

    body = await report(manager)
    [missing] = section(body, "captured_not_invoiced")
    assert (missing["order_number"], missing["amount"], missing["expected"],
            missing["actual"], missing["captured_today"]) == (number, total, total, 0, total)
    assert figures(section(body, "invoiced_differs")) == [(number, total, 0, total)]
    assert reported(body).keys() == {"captured_not_invoiced", "invoiced_differs"}


async def test_a_refund_by_amount_reconciles_with_its_credit_note_and_one_without_is_reported(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, company: Any, bank: Bank,
    drain: Any,
) -> None:
    await catalog.add("TEE", price=2500, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 2), payment=card())
    await drain()
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    await drain()
    refunded = await manager.post(f"/api/orders/{number}/payments/refund",
                                  json={"reason": "late delivery", "amount": 700})
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["transactions"][-1]["credit_note"]
    await drain()
    assert reported(await report(manager)) == {}

    # The rest of the invoice is credited with no money given back, then money is given back
    # with no invoice left to credit: a refund without a credit note.
    [item] = (await manager.get("/api/invoices")).json()["items"]
    invoice = (await manager.get(f"/api/invoices/{item['number']}")).json()
    credited = await manager.post(f"/api/invoices/{invoice['number']}/credit-notes", json={
        "reason": "returned", "amount": invoice["gross"] - invoice["credited"]})
    assert credited.status_code == 201, credited.text
    refunded = await manager.post(f"/api/orders/{number}/payments/refund",
                                  json={"reason": "goodwill", "amount": 300})
    assert refunded.status_code == 200, refunded.text
    late = refunded.json()["transactions"][-1]
    assert late["credit_note"] is None
    await drain()
    total = await _total(manager, number)
    body = await report(manager)
    [refund] = section(body, "refunded_without_credit_note")
    assert (refund["order_number"], refund["amount"], refund["transaction_id"]) == (
        number, 300, late["id"])
    assert refund["detail"] == "Refunded €3.00 without a credit note"
    assert [item["order_number"] for item in section(body, "invoiced_differs")] == [number]
    assert section(body, "captured_not_invoiced") == []
    assert total > 1000


async def test_a_refund_by_lines_with_its_credit_note_reconciles(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, company: Any, bank: Bank,
    drain: Any,
) -> None:
    await catalog.add("TEE", price=2500, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 2), payment=card())
    await drain()
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    await drain()
    tee = (await manager.get(f"/api/orders/{number}")).json()["lines"][0]
    refunded = await manager.post(f"/api/orders/{number}/payments/refund", json={
        "reason": "one came back", "lines": [{"line_id": tee["id"], "quantity": 1}]})
    assert refunded.status_code == 200, refunded.text
    await drain()
    assert reported(await report(manager)) == {}


async def test_a_provider_call_unanswered_for_over_an_hour_is_pending_whatever_the_day(
    manager: httpx.AsyncClient, web: httpx.AsyncClient, catalog: Any, bank: Bank,
    drain: Any, sessionmaker: Any,
) -> None:
    from comptoir.payments.models import PaymentTransaction
    from tests.orders.conftest import order_body

    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number = (await web.post("/api/orders", json=order_body(
        ("TEE", 1), payment=card("tok_webhook")))).json()["number"]
    await drain()
    [auth] = (await payments(manager, number))["transactions"]
    assert auth["status"] == "pending"
    assert section(await report(manager), "pending_calls") == [], "not an hour old yet"

    async with sessionmaker() as session, session.begin():
        await session.execute(update(PaymentTransaction).values(
            created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)))
    for day in (today(), "2020-01-01"):
        body = await report(manager, date=day)
        [call] = section(body, "pending_calls")
        assert (call["order_number"], call["amount"], call["transaction_id"], call["kind"],
                call["provider"]) == (number, auth["amount"], auth["id"], "authorization",
                                      "sandbox")
        assert reported(body) == {"pending_calls": [number]}


async def test_the_csv_says_what_the_json_says(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, bank: Bank, drain: Any,
) -> None:
    await catalog.add("TEE", price=1234, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 3), payment=card())
    await drain()
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    await drain()
    body = await report(manager, lang="fr")
    answer = await manager.get("/api/reports/reconciliation.csv",
                               params={"date": today(), "lang": "fr"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert rows, "the CSV has no finding"
    expected = [
        {"section": s["section"], "order_number": f["order_number"], "currency": f["currency"],
         "amount": f"{f['amount'] // 100}.{f['amount'] % 100:02d}",
         "expected": f"{f['expected'] // 100}.{f['expected'] % 100:02d}",
         "actual": f"{f['actual'] // 100}.{f['actual'] % 100:02d}", "detail": f["detail"],
         "transaction_id": f["transaction_id"] or ""}
        for s in body["sections"] for f in s["findings"]]
    assert rows == expected
    assert {row["order_number"] for row in rows} == {number}
    assert "Encaissé" in rows[0]["detail"]


async def test_a_bad_date_is_refused_and_says_why(manager: httpx.AsyncClient) -> None:
    for path in ("/api/reports/reconciliation", "/api/reports/reconciliation.csv"):
        for bad in ("2026-02-30", "yesterday", "03/12/2026"):
            answer = await manager.get(path, params={"date": bad})
            assert answer.status_code == 422, (path, bad, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            problem = answer.json()
            assert problem["code"] == "invalid_date"
            assert "YYYY-MM-DD" in problem["detail"] and bad in problem["detail"]


async def test_the_date_defaults_to_today_in_paris(manager: httpx.AsyncClient) -> None:
    answer = await manager.get("/api/reports/reconciliation")
    assert answer.status_code == 200, answer.text
    assert answer.json()["date"] == today()


async def test_only_managers_see_the_reconciliation(
    associate: httpx.AsyncClient, web: httpx.AsyncClient,
) -> None:
    for client in (associate, web):
        for path in ("/api/reports/reconciliation", "/api/reports/reconciliation.csv"):
            assert (await client.get(path)).status_code == 403, path


async def test_the_day_runs_from_midnight_to_midnight_in_paris(
    manager: httpx.AsyncClient, catalog: Any, packed: Any, drain: Any, sessionmaker: Any,
) -> None:
    from comptoir.fulfillment.models import Shipment

    await catalog.add("TEE", price=1000, stock={"WH-PARIS": 5})
    number, work = await packed(("TEE", 1))  # no payment through Comptoir
    assert (await ship(manager, work["WH-PARIS"], "C1")).status_code == 200
    await drain()
    day = dt.date(2026, 3, 10)
    midnight = dt.datetime.combine(day, dt.time(), PARIS)  # 23:00 UTC on the 9th

    async def shipped_at(moment: dt.datetime) -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(update(Shipment).values(shipped_at=moment.astimezone(dt.UTC)))

    def unpaid(body: dict[str, Any]) -> list[str]:
        return [f["order_number"] for f in section(body, "left_without_payment")]

    await shipped_at(midnight + dt.timedelta(minutes=30))  # 23:30 UTC the day before
    assert unpaid(await report(manager, date=day.isoformat())) == [number]
    assert unpaid(await report(manager, date="2026-03-09")) == []
    await shipped_at(midnight - dt.timedelta(minutes=1))  # 23:59 in Paris the day before
    assert unpaid(await report(manager, date=day.isoformat())) == []
    assert unpaid(await report(manager, date="2026-03-09")) == [number]
    body = await report(manager, date=day.isoformat())
    assert dt.datetime.fromisoformat(body["start"]) == midnight
    assert body["start"].endswith(("Z", "+00:00"))
