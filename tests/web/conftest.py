"""Fixtures for the PWA tests: the built app, or a clear skip when it is not built."""

from __future__ import annotations

from pathlib import Path

import pytest

from comptoir.web.spa import DIST_DIR


@pytest.fixture
def built_app() -> Path:
    """The PWA build served at ``/``; ``make test`` builds it first, so CI never skips."""
    if not (DIST_DIR / "index.html").is_file():
        pytest.skip(f"the PWA is not built ({DIST_DIR} has no index.html): run `make pwa`")
    return DIST_DIR
