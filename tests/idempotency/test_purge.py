"""Old Idempotency-Keys are purged in bounded batches; recent ones, and keys in use, stay."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from comptoir.db.base import new_id, utcnow
from comptoir.idempotency import IdempotencyKey
from comptoir.settings import SettingsError, load_settings

RETENTION = dt.timedelta(hours=72)


async def _add_keys(sessionmaker: Any, prefix: str, age: dt.timedelta, n: int,
                    *, answered: bool = True) -> None:
    async with sessionmaker() as session, session.begin():
        session.add_all(IdempotencyKey(
            id=new_id(), scope="staff:test", key=f"{prefix}-{i}", request_hash="0" * 64,
            status_code=201 if answered else None, response="{}" if answered else None,
            created_at=utcnow() - age) for i in range(n))


async def _keys(sessionmaker: Any) -> set[str]:
    async with sessionmaker() as session:
        return set(await session.scalars(select(IdempotencyKey.key)))


async def test_old_keys_go_in_batches_and_recent_ones_stay(sessionmaker: Any) -> None:
    from comptoir.idempotency import purge_keys

    await _add_keys(sessionmaker, "old", RETENTION + dt.timedelta(hours=1), 7)
    await _add_keys(sessionmaker, "recent", RETENTION - dt.timedelta(hours=1), 3)
    await _add_keys(sessionmaker, "in-use", dt.timedelta(seconds=2), 2, answered=False)
    purged = await purge_keys(sessionmaker, utcnow() - RETENTION, batch=3)
    assert purged == 7
    assert await _keys(sessionmaker) == {"recent-0", "recent-1", "recent-2", "in-use-0",
                                         "in-use-1"}
    assert await purge_keys(sessionmaker, utcnow() - RETENTION, batch=3) == 0


async def test_two_purges_at_once_delete_each_old_key_once(sessionmaker: Any) -> None:
    from comptoir.idempotency import purge_keys

    await _add_keys(sessionmaker, "old", RETENTION * 2, 25)
    await _add_keys(sessionmaker, "in-use", dt.timedelta(0), 1, answered=False)
    cutoff = utcnow() - RETENTION
    counts = await asyncio.gather(purge_keys(sessionmaker, cutoff, batch=4),
                                  purge_keys(sessionmaker, cutoff, batch=4))
    assert sum(counts) == 25
    assert await _keys(sessionmaker) == {"in-use-0"}


async def test_the_app_purges_old_keys_from_its_lifespan(
    app: Any, sessionmaker: Any, manager: Any, catalog: Any
) -> None:
    await _add_keys(sessionmaker, "old", RETENTION + dt.timedelta(minutes=5), 2)
    await catalog.add("TEE", stock={"WH-PARIS": 5})
    fresh = await manager.post("/api/inventory/adjustments", headers={"Idempotency-Key": "new"},
                               json={"sku": "TEE", "location": "WH-PARIS", "delta": -1,
                                     "reason": "casse"})
    assert fresh.status_code == 201
    purger = app.state.housekeeping["idempotency-key-purger"]
    assert app.state.settings.idempotency_retention_hours * 3600 == RETENTION.total_seconds()
    assert purger.interval > 0
    task = asyncio.create_task(purger.run())  # the loop the lifespan runs, once more
    try:
        for _ in range(100):
            if await _keys(sessionmaker) == {"new"}:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert await _keys(sessionmaker) == {"new"}


@pytest.mark.postgres
async def test_a_key_claimed_by_a_request_in_progress_is_not_purged_nor_waited_for(
    sessionmaker: Any,
) -> None:
    from comptoir.idempotency import purge_keys

    await _add_keys(sessionmaker, "old", RETENTION * 2, 3)
    async with sessionmaker() as busy, busy.begin():  # a request between its claim and commit
        busy.add(IdempotencyKey(id=new_id(), scope="staff:test", key="in-progress",
                                request_hash="0" * 64, created_at=utcnow()))
        await busy.flush()
        # Even with a cutoff that takes every key, the purge neither sees nor waits for it.
        purged = await asyncio.wait_for(
            purge_keys(sessionmaker, utcnow() + dt.timedelta(hours=1)), timeout=10)
        assert purged == 3
    assert await _keys(sessionmaker) == {"in-progress"}


def test_the_retention_is_a_setting_of_at_least_an_hour(tmp_path: Any) -> None:
    base = {"COMPTOIR_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "COMPTOIR_SECRET_KEY": "s" * 32}
    assert load_settings(base).idempotency_retention_hours == 72
    assert load_settings({**base, "COMPTOIR_IDEMPOTENCY_RETENTION_HOURS": "24"}
                         ).idempotency_retention_hours == 24
    for bad in ("0.5", "-1", "soon"):
        with pytest.raises(SettingsError, match="COMPTOIR_IDEMPOTENCY_RETENTION_HOURS"):
            load_settings({**base, "COMPTOIR_IDEMPOTENCY_RETENTION_HOURS": bad})
