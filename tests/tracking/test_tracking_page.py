"""The customer's tracking page and its JSON: their words, their language, nothing internal."""

from __future__ import annotations

import html
from typing import Any

import httpx

from tests.tracking.conftest import get_page

NBSP = "\u00a0"


async def test_page_speaks_french_by_default_and_english_when_the_browser_prefers_it(
    anon: httpx.AsyncClient, place: Any
) -> None:
    order = await place()
    token = order["tracking_token"]

    french = await anon.get(f"/track/{token}")
    assert french.status_code == 200
    assert french.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in french.text
    assert "Commande confirmée" in french.text and "Commande reçue" in french.text
    assert f"39,80{NBSP}€" in french.text  # 2 x 19,90 €
    assert f"12,50{NBSP}€" in french.text

    english = await get_page(anon, token, "en-GB,en;q=0.9,fr;q=0.5")
    assert '<html lang="en">' in english.text
    assert "Order confirmed" in english.text and "Order received" in english.text
    assert "€39.80" in english.text and "Commande confirmée" not in english.text

    # A language Comptoir does not speak falls back to French; a refused one is not chosen.
    assert '<html lang="fr">' in (await get_page(anon, token, "de-DE,de;q=0.9")).text
    assert '<html lang="fr">' in (await get_page(anon, token, "en;q=0, fr;q=0.3")).text


async def test_shipped_order_shows_its_lines_and_its_delivery_address_masked(
    anon: httpx.AsyncClient, place: Any
) -> None:
    order = await place()
    page = html.unescape((await get_page(anon, order["tracking_token"])).text)
    assert order["number"] in page
    assert "T-shirt noir M" in page and "Mug « Comptoir »" in page
    # "3 rue de la Paix" for "Ada Byron": enough to recognise, not to find the door.
    assert "Livraison à" in page and "3*** r*** de la P***" in page and "69001 Lyon" in page
    assert "Ada B." in page
    assert "rue de la Paix" not in page and "Byron" not in page
    assert "Code de retrait" not in page and "<svg" not in page


async def test_pickup_order_shows_the_store_and_its_hours_and_asks_for_a_proof_before_the_code(
    anon: httpx.AsyncClient, place: Any, lyon_store_details: dict[str, str], pickup_code: Any
) -> None:
    order = await place(pickup_at="ST-LYON-01")
    page = html.unescape((await get_page(anon, order["tracking_token"])).text)
    assert "Retrait en magasin" in page
    assert "Comptoir Lyon Presqu'île" in page
    # The store's own address is public: it is shown in full.
    assert "12 rue de la République" in page and "69002 Lyon" in page
    assert "Lun-Sam 10:00-19:00" in page
    assert "Code de retrait" in page
    assert "Les 4 derniers chiffres de votre téléphone, ou votre adresse e-mail" in page
    code = await pickup_code(order["number"])
    assert code and code not in page
    assert "<svg" not in page and 'id="pickup-code"' not in page
    assert "Livraison à" not in page


async def test_json_gives_the_same_content_as_the_page(
    anon: httpx.AsyncClient, place: Any, lyon_store_details: dict[str, str], pickup_code: Any
) -> None:
    order = await place(pickup_at="ST-LYON-01")
    response = await anon.get(f"/api/track/{order['tracking_token']}",
                              headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "number", "locale", "status", "status_label", "placed_at", "currency", "lines",
        "shipping", "total", "shipping_text", "total_text", "delivery_method", "address",
        "store", "pickup_code", "pickup_code_access", "proof_by", "timeline", "seq",
        "can_check_in", "arrived_at"}
    assert body["number"] == order["number"] and body["locale"] == "en"
    assert (body["status"], body["status_label"]) == ("confirmed", "Order confirmed")
    assert [(line["name"], line["quantity"], line["unit_price"], line["total_text"])
            for line in body["lines"]] == [("T-shirt noir M", 2, 1990, "€39.80"),
                                           ("Mug « Comptoir »", 1, 1250, "€12.50")]
    assert body["total"] == 5230 and body["total_text"] == "€52.30"  # pickup costs nothing
    assert body["delivery_method"] == "pickup" and body["address"] is None
    assert body["store"]["name"] == "Comptoir Lyon Presqu'île"
    assert body["store"]["opening_hours"] == "Lun-Sam 10:00-19:00"
    # The code waits for the customer to prove it is them (test_pickup_code_proof.py).
    assert (body["pickup_code"], body["pickup_code_access"]) == (None, "proof_needed")
    assert body["proof_by"] == ["phone", "email"]
    assert await pickup_code(order["number"]) not in response.text
    [step] = body["timeline"]
    assert (step["type"], step["label"]) == ("order.captured", "Order received")
    assert body["seq"] == step["seq"] > 0

    french = (await anon.get(f"/api/track/{order['tracking_token']}")).json()
    assert french["status_label"] == "Commande confirmée"
    assert french["total_text"] == f"52,30{NBSP}€"


async def test_nothing_internal_reaches_the_customer(
    anon: httpx.AsyncClient, place: Any, manager: httpx.AsyncClient, world: Any
) -> None:
    order = await place()
    number, token = order["number"], order["tracking_token"]
    note = "Client connu du service litiges, vérifier la carte"
    response = await manager.post(f"/api/orders/{number}/notes", json={"text": note})
    assert response.status_code == 200, response.text
    response = await manager.post(f"/api/orders/{number}/hold", json={
        "reason": "suspected_fraud", "note": "Carte signalée par la banque"})
    assert response.status_code == 200, response.text

    for language in ("fr", "en"):
        page = (await get_page(anon, token, language)).text
        data = (await anon.get(f"/api/track/{token}",
                               headers={"Accept-Language": language})).text
        for shown in (page, data):
            assert note not in shown and "Carte signalée" not in shown
            assert world.users["manager"] not in shown
            assert "fraud" not in shown.lower() and "suspected" not in shown.lower()
            assert "note_added" not in shown and "hold_reason" not in shown
    french = (await anon.get(f"/api/track/{token}")).json()
    assert french["status_label"] == "En cours de vérification"
    assert [step["label"] for step in french["timeline"]] == [
        "Commande reçue", "En cours de vérification"]
    english = html.unescape((await get_page(anon, token, "en")).text)
    assert "Being checked" in english


async def test_cancelled_order_says_so(
    anon: httpx.AsyncClient, place: Any, manager: httpx.AsyncClient
) -> None:
    order = await place()
    response = await manager.post(f"/api/orders/{order['number']}/cancel",
                                  json={"reason": "rupture fournisseur"})
    assert response.status_code == 200, response.text
    page = (await get_page(anon, order["tracking_token"])).text
    assert "Annulée" in page and "Commande annulée" in page
    assert "rupture fournisseur" not in page


async def test_unknown_or_malformed_token_is_a_404_that_tells_nothing(
    anon: httpx.AsyncClient, place: Any
) -> None:
    order = await place()
    real = order["tracking_token"]
    unknown = ("A" if real[0] != "A" else "B") + real[1:]
    bodies = set()
    for token in (unknown, "xyz-not-a-token", "not a token!", "A" * 300, order["number"]):
        page = await anon.get(f"/track/{token}")
        data = await anon.get(f"/api/track/{token}")
        assert page.status_code == data.status_code == 404
        assert data.headers["content-type"].startswith("application/problem+json")
        assert token not in page.text and token not in data.text
        bodies.add((page.text, data.content))
        assert page.headers["cache-control"] == "no-store"
    assert len(bodies) == 1
    assert "Page introuvable" in next(iter(bodies))[0]
    # A NUL character is refused before any route, like everywhere else (400 nul_character).
    for path in ("/track/%00", "/api/track/%00"):
        refused = await anon.get(path)
        assert (refused.status_code, refused.json()["code"]) == (400, "nul_character")


async def test_page_and_json_carry_the_privacy_headers(
    anon: httpx.AsyncClient, place: Any
) -> None:
    order = await place()
    for path in (f"/track/{order['tracking_token']}", f"/api/track/{order['tracking_token']}"):
        response = await anon.get(path)
        assert response.status_code == 200
        headers = response.headers
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
        assert "noindex" in headers["x-robots-tag"]
        policy = headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy
        assert "unsafe-inline" not in policy and "*" not in policy and "http" not in policy


async def test_page_is_light_and_its_inline_code_runs_only_by_its_nonce(
    anon: httpx.AsyncClient, place: Any
) -> None:
    order = await place()
    response = await get_page(anon, order["tracking_token"])
    page = response.text
    nonce = response.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert page.count("<script") == 1 and f'<script nonce="{nonce}">' in page
    assert f'<style nonce="{nonce}">' in page
    assert "src=" not in page  # no external script, image or framework
    script = page[page.index("<script"):page.index("</script>")]
    assert len(script.encode()) < 6144
    assert len(response.content) < 20_000
    other = await get_page(anon, order["tracking_token"])
    assert f"'nonce-{nonce}'" not in other.headers["content-security-policy"]
