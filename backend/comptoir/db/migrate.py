"""``comptoir migrate``: Piccolo's configuration tables, then Alembic's; idempotent."""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio
from alembic import command
from alembic.config import Config

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
    if settings.is_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.postgres_dsn)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            yield
        finally:
            await conn.close()  # ends the session, which releases the lock
        return
    lock_path = settings.sqlite_path.with_name(settings.sqlite_path.name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock_file:
        await anyio.to_thread.run_sync(fcntl.flock, lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


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
