"""``on_commit``: side effects run after the real commit, never for work that was undone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from comptoir.db.engine import on_commit


async def test_callback_runs_after_commit_and_not_after_rollback(sessionmaker: Any) -> None:
    ran: list[str] = []
    async with sessionmaker() as session:
        on_commit(session, lambda: ran.append("rolled back"))
        await session.execute(text("SELECT 1"))
        await session.rollback()
        on_commit(session, lambda: ran.append("committed"))
        await session.execute(text("SELECT 1"))
        assert ran == []
        await session.commit()
    assert ran == ["committed"]


async def test_callback_of_a_rolled_back_savepoint_is_dropped_the_outer_one_kept(
    sessionmaker: Any,
) -> None:
    ran: list[str] = []
    async with sessionmaker() as session, session.begin():
        on_commit(session, lambda: ran.append("outer"))
        savepoint = await session.begin_nested()
        on_commit(session, lambda: ran.append("undone"))
        inner = await session.begin_nested()
        on_commit(session, lambda: ran.append("undone, nested deeper"))
        await inner.commit()
        await savepoint.rollback()
        async with session.begin_nested():
            on_commit(session, lambda: ran.append("released"))
        assert ran == [], "ran when a savepoint was released, before the commit"
    assert ran == ["outer", "released"]


async def test_callback_of_a_session_closed_without_commit_never_runs(sessionmaker: Any) -> None:
    ran: list[str] = []
    session = sessionmaker()
    on_commit(session, lambda: ran.append("abandoned"))
    await session.execute(text("SELECT 1"))
    await session.close()
    # The same session object used again must not carry the abandoned callback over.
    async with session.begin():
        await session.execute(text("SELECT 1"))
    await session.close()
    assert ran == []


async def test_failing_callback_does_not_turn_a_commit_into_an_error(
    sessionmaker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("push service unreachable")

    async with sessionmaker() as session:
        on_commit(session, broken)
        on_commit(session, lambda: ran.append("next"))
        await session.execute(text("SELECT 1"))
        await session.commit()
    assert ran == ["next"]
    assert "push service unreachable" in caplog.text
