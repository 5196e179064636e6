"""The registry of event types (events/types.py) is the one list: the code records only what
it holds, with the data its payloads describe, and the PWA and the tracking page name and
word exactly those types."""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from comptoir.db.base import utcnow
from comptoir.events import export
from comptoir.events.service import record_event, recorded_by_sql
from comptoir.events.types import (
    REGISTRY,
    EventType,
    PayloadMismatch,
    UnregisteredEventType,
    check_event,
)
from comptoir.tracking import wording

ROOT = Path(__file__).resolve().parents[2]
BACKEND = ROOT / "backend" / "comptoir"
PWA = ROOT / "pwa" / "src"
GENERATED = PWA / "api" / "events.gen.ts"

# A dotted name shaped like an event type ("fulfillment.handed_over").
LOOKS_LIKE_EVENT = re.compile(
    r"^(order|fulfillment|invoice|credit_note|catalog|inventory)\.[a-z0-9_]+$")
# Dotted names in the backend that are not event types.
NOT_EVENTS = {
    "fulfillment.requested": "the message type sent to a 3PL (fulfillment/third_party.py)",
    "fulfillment.3pl_hand_off": "an outbox kind (orders/handoff.py)",
}
REGISTERED = {t.value for t in REGISTRY}


def _backend_sources() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path)))
            for path in sorted(BACKEND.rglob("*.py"))]


def _produced_types() -> dict[str, list[str]]:
    """Every event type the backend names outside the registry: literals and EventType
    members, with where."""
    found: dict[str, list[str]] = {}
    for path, tree in _backend_sources():
        if path.parent.name == "events" and path.name in ("types.py", "payloads.py"):
            continue
        for node in ast.walk(tree):
            name: str | None = None
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and LOOKS_LIKE_EVENT.match(node.value)):
                name = node.value
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id == "EventType"):
                name = EventType[node.attr].value
            if name is not None and name not in NOT_EVENTS:
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                found.setdefault(name, []).append(where)
    return found


def test_the_backend_produces_no_event_type_the_registry_lacks() -> None:
    unknown = {name: where for name, where in _produced_types().items()
               if name not in REGISTERED}
    assert unknown == {}


def test_every_registered_event_type_has_a_producer() -> None:
    assert REGISTERED - set(_produced_types()) == set()


def test_no_event_type_is_built_from_pieces() -> None:
    """An f-string type ("fulfillment.{step}") would hide from the scan above."""
    built = []
    for path, tree in _backend_sources():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (isinstance(node, ast.JoinedStr) and node.values
                        and isinstance(node.values[0], ast.Constant)
                        and re.fullmatch(r"(order|fulfillment|catalog|inventory)\.",
                                         str(node.values[0].value))):
                    built.append(f"{path.relative_to(ROOT)}:{function.name}")
    assert built == []


def test_an_unregistered_type_or_drifted_data_is_refused_when_recorded() -> None:
    with pytest.raises(UnregisteredEventType, match=r"order\.refunded"):
        check_event("order.refunded", "order", {})
    with pytest.raises(UnregisteredEventType, match="topic"):
        check_event("order.held", "inventory",
                    {"version": 2, "from": "confirmed", "reason": "address_check",
                     "note": None})
    check_event("order.held", "order",
                {"version": 2, "from": "confirmed", "reason": "address_check", "note": None})
    with pytest.raises(PayloadMismatch, match=r"order.held.*version"):
        check_event("order.held", "order",
                    {"version": "2", "from": "confirmed", "reason": "x", "note": None})
    with pytest.raises(PayloadMismatch, match="reason"):  # a field gone
        check_event("order.held", "order", {"version": 2, "from": "confirmed", "note": None})
    with pytest.raises(PayloadMismatch, match="because"):  # a field nobody declared
        check_event("order.held", "order", {"version": 2, "from": "confirmed",
                                             "reason": "x", "note": None, "because": "y"})


async def test_record_event_and_its_sql_twin_refuse_before_anything_is_written(
    sessionmaker: Any,
) -> None:
    async with sessionmaker() as session:
        with pytest.raises(UnregisteredEventType):
            await record_event(session, topic="order", type="order.refunded", subject="X",
                               data={}, actor="tester")
        with pytest.raises(PayloadMismatch):
            recorded_by_sql(session, id=uuid.uuid4(), topic="order",
                            type=EventType.ORDER_CAPTURED, subject="X", data={"total": 1},
                            actor="tester", at=utcnow())
        assert not session.new and not list(session)


def test_the_pwa_event_types_are_generated_from_the_registry() -> None:
    """Regenerate with ``python -m comptoir.events.export > pwa/src/api/events.gen.ts``."""
    assert GENERATED.read_text() == export.render()


CATALOGUES = ("{language}.ts", "events.{language}.ts", "routing.{language}.ts",
              "invoices.{language}.ts")


def _catalogue_keys(language: str) -> set[str]:
    """The message keys of a language: its catalogue and the parts spread into it."""
    keys: set[str] = set()
    for name in CATALOGUES:
        text = (PWA / "i18n" / name.format(language=language)).read_text()
        keys |= set(re.findall(r'^\s*"([^"]+)":', text, re.MULTILINE))
    return keys


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_event_type_has_its_label_in_the_pwa(language: str) -> None:
    keys = _catalogue_keys(language)
    assert {t.value for t in REGISTRY if t.label_key not in keys} == set()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_pwa_labels_no_event_type_that_does_not_exist(language: str) -> None:
    labelled = {key: match.group(2) for key in _catalogue_keys(language)
                if (match := re.fullmatch(r"(event)\.(.+)", key))}
    assert {key for key, name in labelled.items()
            if name not in REGISTERED or EventType(name).label_key != key} == set()


def test_the_pwa_names_no_event_type_that_does_not_exist() -> None:
    """Dotted names shaped like event types, in the PWA's code and tests, are event types
    unless they are a message key, the prefix of message keys, or an offline action kind."""
    keys = _catalogue_keys("en")
    prefixes = {key.rsplit(".", n)[0] for key in keys for n in range(1, key.count(".") + 1)}
    actions = {key.removeprefix("outbox.action.") for key in keys
               if key.startswith("outbox.action.")}
    unknown = set()
    for path in sorted(PWA.rglob("*.ts*")):
        catalogue = (path.parent.name == "i18n"
                     and path.stem in ("fr", "en", "events.fr", "events.en"))
        if path == GENERATED or catalogue:
            continue
        for name in re.findall(r"""["'`]([a-z]+\.[a-z0-9_]+)["'`]""", path.read_text()):
            if (LOOKS_LIKE_EVENT.match(name) and name not in REGISTERED
                    and name not in keys | prefixes | actions):
                unknown.add(f"{path.relative_to(ROOT)}: {name}")
    assert unknown == set()


def test_the_customer_reads_every_shown_event_in_french_and_english() -> None:
    shown = [t for t, spec in REGISTRY.items() if spec.customer is not None]
    assert "fulfillment.handed_over" in shown and "order.note_added" not in shown
    for event_type in shown:
        for locale in wording.LOCALES:
            assert wording.event_label(event_type, locale), (event_type, locale)
    assert wording.event_label("order.captured", "fr") == "Commande reçue"
    assert wording.event_label("fulfillment.rejected", "en") is None
    assert not wording.shown_to_customer("order.refunded")
