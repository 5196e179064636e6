"""``comptoir migrate``: Piccolo's configuration tables, then Alembic's; idempotent."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio
from alembic import command
from alembic.config import Config

from comptoir.db.dialect import dialect_for
from comptoir.settings import Settings

__all__ = ["MIGRATION_LOCK_KEY", "alembic_config", "migrate", "migration_lock", "piccolo_bound_to"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# PostgreSQL advisory lock held while migrating ("compt", 2).
MIGRATION_LOCK_KEY = 0x636F6D7074_02


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    cfg.attributes["settings"] = settings
    return cfg


@asynccontextmanager
async def migration_lock(settings: Settings) -> AsyncIterator[None]:
    """One migrator at a time per database.

    Several processes starting together (containers that migrate on start) would otherwise
    race to create the same tables, and all but one would crash.
    """
    async with dialect_for(settings).migration_lock(settings, MIGRATION_LOCK_KEY):
        yield


@contextmanager
def piccolo_bound_to(settings: Settings) -> Iterator[None]:
    """Point Piccolo's tables (and its migrations) at ``settings``' database for a while.

    Piccolo binds tables to an engine process-wide; putting the previous binding back lets
    a process work on another database (migrate it, seed it) and leave a running app alone.
    """
    from piccolo.apps.migrations.tables import Migration
    from piccolo.table import Table

    from comptoir.config import piccolo_conf
    from comptoir.config.engine import all_tables, bind_piccolo, make_piccolo_engine

    tables: list[type[Table]] = [*all_tables(), Migration]
    previous = piccolo_conf.DB, {table: table._meta.db for table in tables}
    bind_piccolo(make_piccolo_engine(settings))
    try:
        yield
    finally:
        piccolo_conf.DB = previous[0]
        for table, db in previous[1].items():
            table._meta.db = db


async def migrate(settings: Settings) -> None:
    """Bring the database to the latest schema; running it again changes nothing."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    os.environ.setdefault("PICCOLO_CONF", "comptoir.config.piccolo_conf")
    async with migration_lock(settings):
        with piccolo_bound_to(settings):
            result = await run_forwards(app_name="all")
        if not result.success:
            raise RuntimeError(f"Piccolo migrations failed: {result.message}")
        await anyio.to_thread.run_sync(command.upgrade, alembic_config(settings), "head")
