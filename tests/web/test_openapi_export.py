"""``python -m comptoir.openapi_export`` prints the API document the PWA's client is typed from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_openapi_export_prints_the_api_without_a_server_or_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")}
    result = subprocess.run(
        [sys.executable, "-m", "comptoir.openapi_export"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["openapi"].startswith("3.")
    assert {"/api/auth/login", "/api/auth/me", "/api/locations"} <= document["paths"].keys()
    assert "MeOut" in document["components"]["schemas"]
    # Nothing is left behind where it ran: no ./var, no database file.
    assert list(tmp_path.iterdir()) == []
