"""Fresh, empty databases (a SQLite file, or a PostgreSQL database made and dropped here)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from comptoir.settings import Settings, load_settings
from tests.conftest import ADMIN_DATABASE_URL

__all__ = ["empty_database"]


@asynccontextmanager
async def empty_database(kind: str, tmp: Path) -> AsyncIterator[Settings]:
    """Settings pointing at a database with nothing in it; removed afterwards."""
    if kind == "sqlite":
        yield load_settings({"COMPTOIR_DATABASE_URL": f"sqlite:///{tmp / 'empty.db'}",
                             "COMPTOIR_VAR_DIR": str(tmp)})
        return
    import asyncpg

    name = f"comptoir_empty_{secrets.token_hex(4)}"
    url = urlunsplit(urlsplit(ADMIN_DATABASE_URL)._replace(path="/" + name))
    admin = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield load_settings({"COMPTOIR_DATABASE_URL": url, "COMPTOIR_VAR_DIR": str(tmp)})
        finally:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await admin.close()


BOTH_DATABASES = pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)


@pytest.fixture
def database_factory(tmp_path: Path) -> Callable[[str], Any]:
    return lambda kind: empty_database(kind, tmp_path)
