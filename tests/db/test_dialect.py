"""What differs between SQLite and PostgreSQL is chosen once, by ``db.dialect``."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, Table, Uuid, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect as SQLDialect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.db.dialect import POSTGRESQL, SQLITE, Dialect, dialect_for, dialect_of
from comptoir.settings import load_settings
from tests.conftest import TEST_DATABASE_URL

QUEUE = Table("queue", MetaData(), Column("id", Uuid, primary_key=True))


def test_the_settings_choose_the_dialect(tmp_path: Path) -> None:
    base = {"COMPTOIR_VAR_DIR": str(tmp_path), "COMPTOIR_SECRET_KEY": "k" * 40}
    embedded = load_settings({**base, "COMPTOIR_DATABASE_URL": f"sqlite:///{tmp_path}/c.db"})
    served = load_settings({**base, "COMPTOIR_DATABASE_URL": "postgresql://u@db:5432/c"})
    assert (dialect_for(embedded), dialect_for(served)) == (SQLITE, POSTGRESQL)


async def test_a_session_knows_its_dialect(
    sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    expected = POSTGRESQL if TEST_DATABASE_URL.startswith("postgres") else SQLITE
    async with sessionmaker() as session:
        assert dialect_of(session) is expected
        assert dialect_of(await session.connection()) is expected


@pytest.mark.parametrize(("dialect", "sql_dialect", "locks"), [
    (POSTGRESQL, postgresql.dialect(), True),  # type: ignore[no-untyped-call]
    (SQLITE, sqlite.dialect(), False),  # type: ignore[no-untyped-call]
])
def test_a_queue_claim_skips_rows_others_locked_only_where_rows_are_locked(
    dialect: Dialect, sql_dialect: SQLDialect, locks: bool
) -> None:
    due = select(QUEUE.c.id).limit(10)
    claim = update(QUEUE).where(dialect.claim(QUEUE.c.id, due)).values(id=uuid.uuid4())
    sql = str(claim.compile(dialect=sql_dialect))
    assert ("FOR UPDATE SKIP LOCKED" in sql) is locks
    assert ("MATERIALIZED" in sql) is locks
