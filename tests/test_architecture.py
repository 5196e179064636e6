"""The shape of the house, checked: no import loop between domain packages, and the order's
tables written only by ``comptoir.orders``.

Imports are read with ``ast`` from every module of ``backend/comptoir`` (package
``__init__`` files included), at module level only: an import inside a function runs when
it is called and makes no loop at start-up. A domain is a direct sub-package of
``comptoir`` (``orders``, ``fulfillment``, ``routing``…); a top-level module (``errors``,
``idempotency``…) counts as one of its own. Left out: the wiring that assembles the domains
(``app``, ``cli``, ``seed``, ``db``'s model registry, ``web``), and each domain's HTTP edge
(``api.py``: every one imports ``auth.guards``, and app.py mounts them all).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "backend" / "comptoir"
WIRING = {"app", "cli", "seed", "openapi_export", "__main__", "db", "web"}
ORDER_TABLES = ("orders", "order_lines", "order_allocations")
ORDER_MODELS = ("Order", "OrderLine", "OrderAllocation")
# Where a write to the order's tables shows in Python or SQL text.
WRITES = [
    re.compile(rf"\b(?:update|insert|delete)\(\s*(?:{'|'.join(ORDER_MODELS)})\b"),
    re.compile(rf"\b(?:{'|'.join(ORDER_MODELS)})\("),  # a new row
    re.compile(rf"(?i)\b(?:insert\s+into|update|delete\s+from)\s+(?:{'|'.join(ORDER_TABLES)})\b"),
    re.compile(r"\border\.(?:status|version|updated_at|held_from|hold_reason|hold_note)"
               r"\s*[-+]?=(?!=)"),
    re.compile(r"\ballocation\.quantity\s*[-+]?=(?!=)"),
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _domain(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "comptoir" or len(parts) < 2:
        return None
    return parts[1]


def _imported(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """The comptoir modules a module imports at module level (not inside functions)."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, block, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])
            elif isinstance(node, ast.ClassDef):
                visit(node.body)

    visit(tree.body)
    return {name for name in found if name.startswith("comptoir.")}


def _sources() -> dict[str, tuple[Path, ast.Module]]:
    return {_module_name(path): (path, ast.parse(path.read_text(encoding="utf-8")))
            for path in sorted(ROOT.rglob("*.py")) if "migrations" not in path.parts}


def domain_graph(*, with_api: bool = False) -> dict[str, set[str]]:
    """Domain -> the other domains its modules import at module level (the wiring aside;
    ``with_api``: the HTTP edges' imports too)."""
    graph: dict[str, set[str]] = {}
    for module, (path, tree) in _sources().items():
        domain = _domain(module)
        if domain is None or domain in WIRING or (path.name == "api.py" and not with_api):
            continue
        targets = {_domain(name) for name in _imported(tree, module, path.name == "__init__.py")}
        graph.setdefault(domain, set()).update(
            t for t in targets if t is not None and t != domain and t not in WIRING)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each loop between domains, once, as the path that closes it."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                key = frozenset(path)
                if key not in seen:
                    seen.add(key)
                    found.append([*path, start])
            elif nxt not in path and nxt > start:  # each loop from its smallest domain
                walk(start, nxt, [*path, nxt])

    for domain in sorted(graph):
        walk(domain, domain, [domain])
    return found


def test_no_import_loop_between_domain_packages() -> None:
    loops = cycles(domain_graph())
    assert loops == [], "import loops between domains: " + "; ".join(
        " -> ".join(loop) for loop in loops)


def test_the_checker_sees_a_loop_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_fulfillment_and_customers_do_not_import_orders_back() -> None:
    graph = domain_graph(with_api=True)
    assert "orders" in graph["fulfillment"]  # fulfillment calls the order's verbs
    assert "fulfillment" not in graph["orders"]
    assert "orders" not in graph.get("customers", set())


def test_only_orders_writes_the_orders_tables() -> None:
    writers = []
    for module, (path, _tree) in _sources().items():
        if module == "comptoir.orders" or module.startswith("comptoir.orders."):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(pattern.search(line) for pattern in WRITES):
                writers.append(f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()}")
    assert writers == [], "order tables written outside comptoir.orders:\n" + "\n".join(writers)


def test_the_write_check_sees_a_write() -> None:
    samples = ["await session.execute(update(Order).values(status='x'))",
               "session.add(OrderAllocation(id=new_id(), order_id=o.id))",
               "UPDATE order_allocations SET quantity = 0",
               "order.version += 1", "allocation.quantity -= 2"]
    assert all(any(p.search(sample) for p in WRITES) for sample in samples)
    assert not any(p.search("if order.status == 'x':") for p in WRITES)
