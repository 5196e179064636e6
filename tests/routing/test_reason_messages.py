"""Routing's reason codes, the server's English and the PWA's catalogues agree."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from comptoir.routing.explanation import english
from comptoir.routing.reasons import Reason, ReasonCode, ReasonLine, loaded, stored

C = ReasonCode
PWA = Path(__file__).resolve().parents[2] / "pwa" / "src"
# Reasons with the server's English for them: the PWA's tests render each one and must say
# the same words (pwa/src/screens/orders/reasons.test.ts).
SAMPLES = PWA / "screens" / "orders" / "reasons.samples.json"


def _line(sku: str, quantity: int, available: int | None = None) -> ReasonLine:
    return ReasonLine(sku=sku, quantity=quantity, available=available)


def samples() -> list[Reason]:
    """At least one reason of every code, with the variants its sentence has."""
    missing = Reason(code=C.MISSING_ITEMS, missing=("TEE", "CAP", "MUG"), more_missing=2,
                     lines=(_line("SOCK", 2, 1),))
    return [
        Reason(code=C.NOTHING_TO_ROUTE),
        Reason(code=C.PICKUP_CHOSEN, location="ST-LYON-05"),
        Reason(code=C.PICKUP_NOT_A_LOCATION, location="NOPE"),
        Reason(code=C.PICKUP_STORE_REFUSED, location="WH-LYON", because=Reason(code=C.NO_PICKUPS)),
        Reason(code=C.PICKUP_STORE_REFUSED, location="ST-1", because=Reason(code=C.INACTIVE)),
        Reason(code=C.PICKUP_STORE_REFUSED, location="ST-1",
               because=Reason(code=C.MISSING_ITEMS, lines=(_line("TEE", 3, 2),))),
        Reason(code=C.PICKUP_STORE_REFUSED, location="ST-1",
               because=Reason(code=C.AT_CAPACITY, orders=5, capacity=5)),
        Reason(code=C.SINGLE_LOCATION, location="WH-LYON", because=Reason(code=C.NEAREST),
               km=12.34),
        Reason(code=C.SINGLE_LOCATION, location="ST-2", because=Reason(code=C.NEAREST), km=3.04),
        Reason(code=C.SINGLE_LOCATION, location="WH-A",
               because=Reason(code=C.TIED, other="WH-B"), km=0.0),
        Reason(code=C.SINGLE_LOCATION, location="WH-A", because=Reason(code=C.ONLY_OPTION),
               place_unknown=True),
        Reason(code=C.SINGLE_LOCATION, location="WH-A", because=Reason(code=C.ONLY_OPTION)),
        Reason(code=C.SPLIT, locations=("ST-LYON-02", "WH-LYON"), limit=2),
        Reason(code=C.SPLIT, locations=("A", "B", "C", "D", "E"), limit=5, place_unknown=True),
        Reason(code=C.OUT_OF_STOCK, lines=(_line("TEE", 3, 1), _line("CAP", 2, 0),
                                           _line("MUG", 1, 0)), more_lines=1),
        Reason(code=C.SPLIT_NOT_ALLOWED, lines=(_line("TEE", 2, 1),)),
        Reason(code=C.TOO_MANY_SPLITS, limit=2, lines=(_line("TEE", 2, 1),)),
        Reason(code=C.WAITING_FOR_CAPACITY, locations=("ST-1",), held_at=("ST-1", "WH-2")),
        Reason(code=C.WAITING_FOR_CAPACITY, locations=("A", "B", "C", "D"),
               held_at=("A", "B", "C", "D")),
        Reason(code=C.ONLY_OPTION),
        Reason(code=C.TIED, other="WH-B"),
        Reason(code=C.NEAREST),
        Reason(code=C.NEARER, other="WH-PARIS"),
        Reason(code=C.CHEAPEST, amount=390),
        Reason(code=C.CHEAPER, other="WH-PARIS", amount=1200),
        Reason(code=C.HIGHEST_PRIORITY, priority=5),
        Reason(code=C.HIGHER_PRIORITY, other="WH-PARIS", priority=10),
        Reason(code=C.CUSTOMERS_PICKUP_STORE),
        Reason(code=C.SERVES, lines=(_line("TEE", 2), _line("CAP", 1), _line("MUG", 1)),
               more_lines=2),
        Reason(code=C.HOLDS_UNTIL_CAPACITY, orders=3, capacity=3),
        Reason(code=C.SAME_SCORE, other="WH-A"),
        Reason(code=C.FARTHER, km=465.8, other_km=2.26),
        Reason(code=C.FARTHER, other_km=9.96),
        Reason(code=C.COSTLIER, amount=1200, other_amount=390),
        Reason(code=C.LOWER_PRIORITY, priority=0, other_priority=5),
        missing,
        Reason(code=C.MISSING_ITEMS, missing=("CAP",)),
        Reason(code=C.NOT_IN_SPLIT, because=missing),
        Reason(code=C.NOT_IN_SPLIT),
        Reason(code=C.NOT_NEEDED),
        Reason(code=C.INACTIVE),
        Reason(code=C.DOES_NOT_SHIP),
        Reason(code=C.STORES_DO_NOT_SHIP),
        Reason(code=C.NO_PICKUPS),
        Reason(code=C.AT_CAPACITY, orders=1, capacity=1),
        Reason(code=C.AT_CAPACITY, orders=0, capacity=0),
        Reason(code=C.AT_CAPACITY),
        Reason(code=C.SAFETY_STOCK),
    ]


def _catalogue_keys(name: str) -> set[str]:
    return set(re.findall(r'^\s*"(routing\.reason\.[\w.]+)":', (PWA / "i18n" / name).read_text(),
                          re.MULTILINE))


def test_every_reason_code_has_an_english_and_a_french_message_in_the_pwa() -> None:
    for catalogue in ("routing.en.ts", "routing.fr.ts"):
        keys = _catalogue_keys(catalogue)
        lacking = [code.value for code in ReasonCode
                   if f"routing.reason.{code.value}" not in keys
                   and f"routing.reason.{code.value}.other" not in keys]
        assert lacking == [], f"{catalogue} has no message for {lacking}"
    assert _catalogue_keys("routing.en.ts") == _catalogue_keys("routing.fr.ts")


def test_the_pwa_is_given_a_sample_of_every_reason_code_with_the_servers_english() -> None:
    expected = json.loads(json.dumps([{"reason": stored(r), "english": english(r)}
                                      for r in samples()]))
    assert {r.code for r in samples()} == set(ReasonCode)
    if os.environ.get("COMPTOIR_WRITE_SAMPLES"):
        SAMPLES.write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    assert json.loads(SAMPLES.read_text()) == expected, (
        "the PWA's reason samples are stale: COMPTOIR_WRITE_SAMPLES=1 pytest " + __file__)


def test_a_reason_is_stored_and_read_back_and_an_old_sentence_is_no_reason() -> None:
    for reason in samples():
        assert loaded(json.loads(json.dumps(stored(reason)))) == reason
    assert loaded(None) is None
    assert loaded("WH-LYON: nearest with all items, 3.2 km.") is None
    assert loaded({"code": "no_such_code"}) is None
