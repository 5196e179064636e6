"""One enumeration of error codes (comptoir/error_codes.py): every code a refusal carries is in
it, each has a sentence in French and in English, and the PWA translates only codes that
exist."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Literal

import pytest

from comptoir.error_codes import CATALOGUE, ErrorCode, message, render_typescript

ROOT = Path(__file__).resolve().parents[2]
BACKEND = ROOT / "backend" / "comptoir"
PWA = ROOT / "pwa" / "src"
ENUMERATED = {code.value for code in ErrorCode}


def _constant(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "ErrorCode"):
        return ErrorCode[node.attr].value
    return None


def _codes_in(tree: ast.Module) -> set[str]:
    """The codes one module's refusals carry, in every form the backend writes them."""
    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "code":  # Conflict(..., code="x")
            found.add(_constant(node.value))
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1  # class X: code = "x"
              and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "code"):
            found.add(_constant(node.value))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.target.id == "code":
            found.add(_constant(node.value))
        elif isinstance(node, ast.Dict):  # {"code": "not_found", ...}
            for key, value in zip(node.keys, node.values, strict=True):
                if _constant(key) == "code":
                    found.add(_constant(value))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if name == "problem" and len(node.args) >= 3:  # problem(request, 400, "x", ...)
                found.add(_constant(node.args[2]))
            elif name == "_refuse" and node.args:  # the live feed's refusals
                found.add(_constant(node.args[0]))
            elif name == "clean_text" and node.args and any(  # code=f"{field}_required"
                    k.arg == "required" for k in node.keywords):
                field = _constant(node.args[0])
                found.add(f"{field}_required" if field else None)
        if isinstance(node, ast.Assign) and any(  # _HTTP_CODES = {400: ("bad_request", ...)}
                isinstance(t, ast.Name) and t.id == "_HTTP_CODES" for t in node.targets):
            found |= {_constant(v.elts[0]) for v in ast.walk(node.value)
                      if isinstance(v, ast.Tuple) and v.elts}
        if (isinstance(node, ast.Tuple) and len(node.elts) == 2  # code, title = "x", "X"
                and isinstance(node.elts[0], ast.Constant)
                and isinstance(node.elts[1], ast.Constant)
                and re.fullmatch(r"[a-z][a-z0-9_]+", str(node.elts[0].value))
                and isinstance(node.elts[1].value, str) and node.elts[1].value[:1].isupper()):
            found.add(_constant(node.elts[0]))
    return {code for code in found if code is not None}


def _raised_codes() -> dict[str, list[str]]:
    raised: dict[str, list[str]] = {}
    for path in sorted(BACKEND.rglob("*.py")):
        # The demo's data has pairs shaped like (code, Title): carriers, hold reasons.
        if path.name == "error_codes.py" or path.parent.name == "seed":
            continue
        for code in _codes_in(ast.parse(path.read_text(), str(path))):
            raised.setdefault(code, []).append(str(path.relative_to(ROOT)))
    return raised


def test_every_code_the_backend_refuses_with_is_enumerated() -> None:
    raised = _raised_codes()
    assert len(raised) > 100
    assert {code: where for code, where in raised.items() if code not in ENUMERATED} == {}


def test_every_enumerated_code_is_still_used() -> None:
    assert ENUMERATED - set(_raised_codes()) == set()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_every_code_has_its_sentence_in_french_and_in_english(locale: Literal["fr", "en"]) -> None:
    assert [code.value for code in ErrorCode if not message(code, locale)] == []


def test_the_catalogue_holds_no_code_the_enumeration_lacks() -> None:
    with CATALOGUE.open("rb") as file:
        catalogue = tomllib.load(file)
    assert set(catalogue) - ENUMERATED == set()
    assert all(set(words) == {"fr", "en"} for words in catalogue.values())
    assert message(ErrorCode.OUT_OF_STOCK, "fr") == "Pas assez de stock pour cette commande."
    assert message("no_such_code", "en") is None


def test_every_code_the_pwa_translates_or_makes_exists() -> None:
    """The PWA's translations of refusals (i18n/problems.ts) and the refusals it makes itself
    offline (``code: "..."`` in its code, tests aside) name enumerated codes only."""
    problems = (PWA / "i18n" / "problems.ts").read_text()
    translated = set(re.findall(r"^\s+([a-z][a-z0-9_]*):", problems, re.MULTILINE)) - {"en", "fr"}
    assert len(translated) > 30
    made = {code for path in PWA.rglob("*.ts*")
            if not path.name.endswith((".d.ts", ".test.ts", ".test.tsx"))
            for code in re.findall(r"""\bcode: ["']([a-z][a-z0-9_]*)["']""", path.read_text())}
    assert "wrong_pickup_code" in made
    assert (translated | made) - ENUMERATED == set()


def test_the_pwa_error_codes_are_generated_from_the_enumeration() -> None:
    """Regenerate with ``python -m comptoir.error_codes > pwa/src/api/errors.gen.ts``."""
    assert (PWA / "api" / "errors.gen.ts").read_text() == render_typescript()
