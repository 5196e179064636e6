"""Fraud screening at capture and the managers' review: a capture over the channel's
threshold is held with its reasons, its units reserved, and waits in the review queue;
approve lets it go on, reject cancels it and gives its stock back."""

from __future__ import annotations

from typing import Any

import httpx

from tests.orders.conftest import ABROAD, BIG, Rules, order_body, pickup


async def _capture(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_capture_over_the_threshold_is_held_with_its_reasons_and_its_units_reserved(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    fraud_rules: Rules,
) -> None:
    await fraud_rules(50, BIG, ABROAD)
    await catalog.add("TV", price=40_000, stock={"WH-PARIS": 3})
    held = await _capture(web, order_body(("TV", 1), billing={"country": "ng"}))
    assert held["status"] == "on_hold"
    assert held["hold"] == {"reason": "suspected_fraud", "note": None}
    assert held["lines"][0]["allocations"] == [{"location": "WH-PARIS", "quantity": 1}]
    assert await level("TV", "WH-PARIS") == (3, 1, 2)

    detail = (await manager.get(f"/api/orders/{held['number']}",
                                headers={"Accept-Language": "en"})).json()
    assert detail["fraud"]["score"] == 90 and detail["fraud"]["threshold"] == 50
    assert [(r["code"], r["points"]) for r in detail["fraud"]["reasons"]] == [
        ("amount_over", 60), ("countries_differ", 30)]
    assert detail["fraud"]["reasons"][1]["text"] == (
        "Billing country (NG) differs from the delivery country (FR)")
    timeline = [(e["type"], e["data"]) for e in detail["timeline"]]
    assert [kind for kind, _ in timeline] == ["order.captured", "order.held"]
    assert timeline[1][1]["from"] == "confirmed" and timeline[1][1]["score"] == 90

    queue = await manager.get("/api/reviews/fraud", params={"lang": "fr"})
    assert queue.status_code == 200, queue.text
    (item,) = queue.json()["items"]
    assert (item["number"], item["score"], item["threshold"]) == (held["number"], 90, 50)
    assert item["reasons"][0]["text"].startswith("Montant de 400,00")
    assert item["history"] == {"orders": 0, "total_spent": 0, "first_order_at": None,
                               "cancelled": 0}
    assert queue.json()["next_cursor"] is None
    # The channel that sent it sees that it is held, not why.
    assert (await web.get(f"/api/orders/{held['number']}")).json()["fraud"] is None


async def test_approving_lets_the_order_go_on_and_a_second_approve_is_refused(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    fraud_rules: Rules, stored: Any,
) -> None:
    await fraud_rules(50, BIG)
    await catalog.add("TV", price=40_000, stock={"WH-PARIS": 3})
    held = await _capture(web, order_body(("TV", 1)))
    number = held["number"]
    stale = await manager.post(f"/api/orders/{number}/approve", headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    approved = await manager.post(f"/api/orders/{number}/approve",
                                  headers={"If-Match": '"1"', "Idempotency-Key": "ok-1"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "confirmed" and approved.json()["hold"] is None
    assert approved.headers["etag"] == '"2"'
    # The same tap sent again (a phone's outbox) gets the same answer, applied once.
    again = await manager.post(f"/api/orders/{number}/approve",
                               headers={"If-Match": '"1"', "Idempotency-Key": "ok-1"})
    assert again.status_code == 200 and again.json() == approved.json()
    assert await level("TV", "WH-PARIS") == (3, 1, 2)
    before = await stored()
    refused = await manager.post(f"/api/orders/{number}/approve")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "not_held_for_fraud"
    assert await stored() == before
    assert (await manager.get("/api/reviews/fraud")).json()["items"] == []
    events = [e["type"] for e in (await manager.get(f"/api/orders/{number}/events")).json()]
    assert events == ["order.captured", "order.held", "order.released"]


async def test_rejecting_cancels_the_order_and_gives_its_stock_back(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, level: Any,
    fraud_rules: Rules,
) -> None:
    await fraud_rules(50, BIG)
    await catalog.add("TV", price=40_000, stock={"WH-PARIS": 3})
    number = (await _capture(web, order_body(("TV", 2))))["number"]
    assert await level("TV", "WH-PARIS") == (3, 2, 1)
    rejected = await manager.post(f"/api/orders/{number}/reject",
                                  json={"reason": "stolen card reported"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "cancelled"
    assert await level("TV", "WH-PARIS") == (3, 0, 3)
    timeline = (await manager.get(f"/api/orders/{number}/events")).json()
    assert timeline[-1]["type"] == "order.cancelled"
    assert timeline[-1]["data"]["reason"] == "stolen card reported"
    assert (await manager.post(f"/api/orders/{number}/reject")).json()["code"] == (
        "not_held_for_fraud")


async def test_a_channel_without_a_threshold_never_holds_an_order(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, fraud_rules: Rules,
) -> None:
    await fraud_rules(None, BIG, ABROAD)
    await catalog.add("TV", price=40_000, stock={"WH-PARIS": 3})
    order = await _capture(web, order_body(("TV", 1), billing={"country": "DE"}))
    assert order["status"] == "confirmed"
    assert (await manager.get(f"/api/orders/{order['number']}")).json()["fraud"] is None


async def test_under_the_threshold_the_order_goes_on_with_its_score_kept(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, fraud_rules: Rules,
) -> None:
    await fraud_rules(50, ABROAD)
    await catalog.add("TEE", stock={"WH-PARIS": 3})
    order = await _capture(web, order_body(("TEE", 1), billing={"country": "BE"}))
    assert order["status"] == "confirmed"
    fraud = (await manager.get(f"/api/orders/{order['number']}")).json()["fraud"]
    assert (fraud["score"], fraud["threshold"]) == (30, 50)


async def test_orders_in_quick_succession_from_one_customer_are_held(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, fraud_rules: Rules,
) -> None:
    await fraud_rules(
        40, {"kind": "velocity_email", "points": 50, "at_least": 3, "minutes": 10},
        {"kind": "velocity_phone", "points": 10, "at_least": 2, "minutes": 10},
        {"kind": "velocity_address", "points": 10, "at_least": 2, "minutes": 10},
        {"kind": "many_cards", "points": 45, "at_least": 2},
        {"kind": "new_customer_amount_over", "points": 5, "amount": 0})
    await catalog.add("TEE", stock={"WH-PARIS": 10, "ST-LYON-01": 10})

    def paid(token: str) -> dict[str, Any]:
        return {"provider": "sandbox", "token": token, "amount": 1490}

    first = await _capture(web, order_body(("TEE", 1), payment=paid("tok_a")))
    assert first["status"] == "confirmed"  # a new customer: 5 points
    second = await _capture(web, order_body(("TEE", 1), payment=paid("tok_a")))
    assert second["status"] == "confirmed"  # same phone and address: 20 points
    third = await _capture(web, order_body(("TEE", 1), delivery=pickup("ST-LYON-01")))
    assert third["status"] == "on_hold"  # the third from this e-mail, and the phone
    fourth = await _capture(web, order_body(
        ("TEE", 1), customer={"email": "ada@example.fr"}, payment=paid("tok_b"),
        delivery=pickup("ST-LYON-01")))
    assert fourth["status"] == "on_hold"
    reasons = {r["code"]: r for r in (await manager.get(
        f"/api/orders/{fourth['number']}", params={"lang": "en"})).json()["fraud"]["reasons"]}
    assert set(reasons) == {"velocity_email", "many_cards"}
    # Counted as far as the rule needs: 3 or more.
    assert reasons["velocity_email"]["text"] == "3 orders from the same e-mail within 10 min"
    assert reasons["many_cards"]["text"] == "2 different cards for this customer"
    queue = (await manager.get("/api/reviews/fraud", params={"limit": 1})).json()
    assert [item["number"] for item in queue["items"]] == [fourth["number"]]
    assert queue["items"][0]["history"]["orders"] == 3
    assert queue["items"][0]["history"]["total_spent"] == sum(  # held orders are no refusal
        order["totals"]["total"] for order in (first, second, third))
    rest = (await manager.get("/api/reviews/fraud",
                              params={"cursor": queue["next_cursor"]})).json()
    assert [item["number"] for item in rest["items"]] == [third["number"]]


async def test_bad_input_is_refused_and_changes_nothing(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, associate: httpx.AsyncClient,
    catalog: Any, fraud_rules: Rules, stored: Any,
) -> None:
    await fraud_rules(50, BIG)
    await catalog.add("TEE", stock={"WH-PARIS": 3})
    order = await _capture(web, order_body(("TEE", 1)))
    before = await stored()
    for body in (order_body(("TEE", 1), billing={"country": "XX"}),
                 order_body(("TEE", 1), billing={"country": "FR", "city": "Lyon"})):
        refused = await web.post("/api/orders", json=body)
        assert 400 <= refused.status_code < 500, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    not_held = await manager.post(f"/api/orders/{order['number']}/approve")
    assert not_held.status_code == 409 and not_held.json()["code"] == "not_held_for_fraud"
    assert (await manager.post(f"/api/orders/{order['number']}/reject",
                               json={"why": "?"})).status_code == 400
    assert (await manager.post("/api/orders/CMP-2026-999999/approve")).status_code == 404
    assert (await manager.get("/api/reviews/fraud",
                              params={"cursor": "nonsense"})).status_code == 422
    assert (await associate.get("/api/reviews/fraud")).status_code == 403
    assert (await associate.post(f"/api/orders/{order['number']}/reject")).status_code == 403
    assert await stored() == before
    detail = (await manager.get(f"/api/orders/{order['number']}")).json()
    assert (detail["status"], detail["version"]) == ("confirmed", 1)


async def test_the_admin_refuses_a_rule_the_scorer_cannot_check(
    anon: httpx.AsyncClient, world: Any
) -> None:
    from comptoir.config.models import FraudRule
    from tests.config.test_admin import admin_sign_in
    from tests.conftest import PASSWORD

    assert (await admin_sign_in(anon, world.users["admin"], PASSWORD)).status_code == 200
    csrf = {"X-CSRFToken": anon.cookies["csrftoken"]}
    path = "/admin/api/tables/config_fraud_rule/"
    try:
        for bad, says in (({"kind": "velocity_email", "points": 10, "at_least": 3}, "minutes"),
                          ({"kind": "amount_over", "points": -5, "amount": 100}, "negative"),
                          ({"kind": "watched_postcode", "points": 5, "values": " , "}, "list"),
                          ({"kind": "astrology", "points": 5}, "astrology")):
            refused = await anon.post(path, headers=csrf, json=bad)
            assert refused.status_code == 400 and says in refused.text, refused.text
        assert await FraudRule.count() == 0
        made = await anon.post(path, headers=csrf, json={  # as the admin's form sends it
            "channel": None, "kind": "watched_email_domain", "points": 20, "amount": None,
            "minutes": None, "at_least": None, "values": "mailinator.com", "active": True})
        assert made.status_code == 201, made.text
        rule_id = made.json()[0]["id"]
        changed = await anon.patch(f"{path}{rule_id}/", headers=csrf, json={"values": ""})
        assert changed.status_code == 400, changed.text
        assert (await FraudRule.select(FraudRule.values).first()) == {
            "values": "mailinator.com"}
    finally:
        await FraudRule.delete(force=True)


async def test_captures_arriving_together_are_screened_each_on_its_own_history(
    web: httpx.AsyncClient, manager: httpx.AsyncClient, catalog: Any, fraud_rules: Rules,
) -> None:
    """On PostgreSQL their history reads share one statement (screening._read_together)."""
    import asyncio

    await fraud_rules(25, {"kind": "new_customer_amount_over", "points": 30, "amount": 0},
                      {"kind": "velocity_address", "points": 5, "at_least": 3, "minutes": 10})
    await catalog.add("TEE", stock={"WH-PARIS": 50, "ST-LYON-01": 10})
    regular = await _capture(web, order_body(("TEE", 1), customer={"email": "old@example.fr"}))
    assert regular["status"] == "on_hold"  # a first order: 30 points
    bodies = [order_body(("TEE", 1), customer={"email": f"c{n}@example.fr"},
                         **({"delivery": pickup("ST-LYON-01")} if n % 2 else {}))
              for n in range(8)]
    bodies.append(order_body(("TEE", 1), customer={"email": "old@example.fr"},
                             delivery=pickup("ST-LYON-01")))
    answers = await asyncio.gather(*(web.post("/api/orders", json=body) for body in bodies))
    assert [answer.status_code for answer in answers] == [201] * 9
    statuses = [answer.json()["status"] for answer in answers]
    assert statuses == ["on_hold"] * 8 + ["confirmed"]  # new customers; the returning one
    scores = [(await manager.get(f"/api/orders/{answer.json()['number']}")).json()["fraud"]
              for answer in answers]
    assert all(score["score"] >= 30 for score in scores[:8]) and scores[8]["score"] == 0
