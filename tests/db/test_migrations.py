"""``comptoir migrate``: from empty to the full schema on both databases, idempotent, in step
with the models, and safe when several processes start at once."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from alembic import command
from piccolo.apps.migrations.tables import Migration
from sqlalchemy import inspect, text

from comptoir.config.engine import all_tables
from comptoir.db.engine import create_engine
from comptoir.db.migrate import alembic_config, migrate
from comptoir.db.registry import Base
from comptoir.settings import Settings
from tests.db.conftest import BOTH_DATABASES

PICCOLO_TABLES = {table._meta.tablename for table in [*all_tables(), Migration]}
SQLALCHEMY_TABLES = set(Base.metadata.tables)


async def _schema(settings: Settings) -> dict[str, Any]:
    """Everything a migration could change: tables, columns, indexes, constraints, versions."""

    def describe(conn: Any) -> dict[str, Any]:
        inspector = inspect(conn)
        tables = {}
        for name in sorted(inspector.get_table_names()):
            tables[name] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"])
                            for c in inspector.get_columns(name)],
                "indexes": sorted((i["name"] or "", tuple(i["column_names"]))
                                  for i in inspector.get_indexes(name)),
                "unique": sorted((u["name"] or "", tuple(u["column_names"]))
                                 for u in inspector.get_unique_constraints(name)),
                "foreign_keys": sorted((f["name"] or "", tuple(f["constrained_columns"]))
                                       for f in inspector.get_foreign_keys(name)),
            }
        return tables

    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(describe)
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            piccolo = (await conn.execute(text("SELECT app_name, name FROM migration"))).all()
    finally:
        await engine.dispose()
    return {"tables": tables, "alembic": sorted(versions), "piccolo": sorted(piccolo)}


@BOTH_DATABASES
async def test_migrate_builds_every_table_from_empty_and_a_second_run_changes_nothing(
    kind: str, database_factory: Any
) -> None:
    async with database_factory(kind) as settings:
        await migrate(settings)
        first = await _schema(settings)

        tables = set(first["tables"])
        assert SQLALCHEMY_TABLES <= tables, SQLALCHEMY_TABLES - tables
        assert PICCOLO_TABLES <= tables, PICCOLO_TABLES - tables
        assert len(first["alembic"]) == 1
        assert first["piccolo"], "Piccolo recorded no migration"

        await migrate(settings)
        assert await _schema(settings) == first


@BOTH_DATABASES
async def test_models_and_migrations_agree_and_autogenerate_never_drops_piccolo_tables(
    kind: str, database_factory: Any
) -> None:
    async with database_factory(kind) as settings:
        await migrate(settings)
        assert PICCOLO_TABLES <= set((await _schema(settings))["tables"])
        # Alembic compares the migrated database with our models through env.py: any column,
        # index or table it would add, alter or drop (Piccolo's included) fails the check.
        await anyio.to_thread.run_sync(command.check, alembic_config(settings))


@BOTH_DATABASES
async def test_processes_migrating_the_same_empty_database_at_once_all_succeed(
    kind: str, database_factory: Any
) -> None:
    async with database_factory(kind) as settings:
        await asyncio.gather(migrate(settings), migrate(settings), migrate(settings))
        schema = await _schema(settings)
        assert SQLALCHEMY_TABLES | PICCOLO_TABLES <= set(schema["tables"])
        assert len(schema["alembic"]) == 1


async def test_migrating_another_database_leaves_the_running_app_on_its_own(
    app: Any, world: Any, database_factory: Any
) -> None:
    from comptoir.config import piccolo_conf
    from comptoir.config.models import Location

    bound = Location._meta.db
    async with database_factory("sqlite") as other:
        await migrate(other)
    assert Location._meta.db is bound and piccolo_conf.DB is bound
    assert await Location.exists().where(Location.code == "WH-PARIS")


@pytest.mark.postgres
async def test_database_has_no_table_the_models_and_piccolo_do_not_explain(
    database_factory: Any,
) -> None:
    async with database_factory("postgresql") as settings:
        await migrate(settings)
        tables = set((await _schema(settings))["tables"])
    assert tables - SQLALCHEMY_TABLES - PICCOLO_TABLES == {"alembic_version"}


@BOTH_DATABASES
async def test_an_existing_database_keeps_what_each_location_took_today_when_upgraded(
    kind: str, database_factory: Any
) -> None:
    """The count of the day moved from one row per order to one row per location and day:
    a database made before keeps its counts (a store full today stays full)."""
    import datetime as dt
    import uuid

    async with database_factory(kind) as settings:
        await migrate(settings)
        await anyio.to_thread.run_sync(command.downgrade, alembic_config(settings), "4bfb158930fa")
        today, yesterday = dt.date(2026, 12, 3), dt.date(2026, 12, 2)
        engine = create_engine(settings)
        try:
            async with engine.begin() as conn:
                for day, location, orders in ((today, "ST-LYON-01", 3), (yesterday,
                                              "ST-LYON-01", 1), (today, "WH-PARIS", 2)):
                    for _ in range(orders):
                        decision = uuid.uuid4()
                        await conn.execute(text(
                            "INSERT INTO routing_decisions (id, order_number, created_at, "
                            "method, routed, deciding_factor, reason, allocations, shortages, "
                            "candidates, candidates_left_out, without_stock) VALUES (:id, 'X', "
                            ":at, 'ship', true, 'distance', 'r', '[]', '[]', '[]', 0, 0)"),
                            {"id": decision, "at": dt.datetime(2026, 12, 3, tzinfo=dt.UTC)})
                        await conn.execute(text(
                            "INSERT INTO routing_assignments (id, decision_id, location, "
                            "local_day) VALUES (:id, :decision, :location, :day)"),
                            {"id": uuid.uuid4(), "decision": decision, "location": location,
                             "day": day})
            await migrate(settings)
            async with engine.connect() as conn:
                counts = (await conn.execute(text(
                    "SELECT location, local_day, routed FROM routing_daily_counts "
                    "ORDER BY location, local_day"))).all()
        finally:
            await engine.dispose()
    assert [(loc, str(day), n) for loc, day, n in counts] == [
        ("ST-LYON-01", "2026-12-02", 1), ("ST-LYON-01", "2026-12-03", 3),
        ("WH-PARIS", "2026-12-03", 2)]
