"""Fresh, empty databases (a SQLite file, or a PostgreSQL database made and dropped here)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from comptoir.settings import Settings, load_settings
from tests.conftest import ADMIN_DATABASE_URL
from tests.support import own_database

__all__ = ["empty_database"]


@asynccontextmanager
async def empty_database(kind: str, tmp: Path) -> AsyncIterator[Settings]:
    """Settings pointing at a database with nothing in it; removed afterwards."""
    async with own_database(tmp, "empty",
                            None if kind == "sqlite" else ADMIN_DATABASE_URL) as url:
        yield load_settings({"COMPTOIR_DATABASE_URL": url, "COMPTOIR_VAR_DIR": str(tmp)})


BOTH_DATABASES = pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)


@pytest.fixture
def database_factory(tmp_path: Path) -> Callable[[str], Any]:
    return lambda kind: empty_database(kind, tmp_path)
