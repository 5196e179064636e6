"""The committed typed client (``pwa/src/api/schema.d.ts``) matches the backend's API."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "pwa" / "src" / "api" / "schema.d.ts"
GENERATOR = ROOT / "pwa" / "node_modules" / ".bin" / "openapi-typescript"


def generate_api_types(out_dir: Path) -> str:
    """What ``make api-types`` would write today: export the document, then type it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")}
    export = subprocess.run(
        [sys.executable, "-m", "comptoir.openapi_export"],
        cwd=out_dir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert export.returncode == 0, export.stderr
    document = out_dir / "openapi.json"
    document.write_text(export.stdout, encoding="utf-8")
    generated = out_dir / "schema.d.ts"
    typed = subprocess.run(
        [str(GENERATOR), str(document), "-o", str(generated)],
        cwd=ROOT / "pwa", capture_output=True, text=True, timeout=120, check=False,
    )
    assert typed.returncode == 0, typed.stdout + typed.stderr
    return generated.read_text(encoding="utf-8")


def test_committed_api_types_match_the_backend(tmp_path: Path) -> None:
    if not GENERATOR.exists():
        pytest.skip(f"{GENERATOR} is missing (the PWA's node_modules are not installed): "
                    "`make test` installs them")
    generated = generate_api_types(tmp_path)
    committed = COMMITTED.read_text(encoding="utf-8")
    if generated != committed:
        diff = "".join(list(difflib.unified_diff(
            committed.splitlines(keepends=True), generated.splitlines(keepends=True),
            "pwa/src/api/schema.d.ts (committed)", "generated from the backend", n=1))[:60])
        pytest.fail("pwa/src/api/schema.d.ts is not what the backend's API gives: run "
                    f"`make api-types` and commit the result.\n{diff}", pytrace=False)
