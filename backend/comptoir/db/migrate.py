"""``comptoir migrate``: Piccolo's configuration tables, then Alembic's; idempotent."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
from alembic import command
from alembic.config import Config

from comptoir.settings import Settings

__all__ = ["alembic_config", "migrate"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    cfg.attributes["settings"] = settings
    return cfg


async def migrate(settings: Settings) -> None:
    """Bring the database to the latest schema; running it again changes nothing."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from comptoir.config.engine import bind_piccolo, make_piccolo_engine

    os.environ.setdefault("PICCOLO_CONF", "comptoir.config.piccolo_conf")
    engine = make_piccolo_engine(settings)
    bind_piccolo(engine)
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"Piccolo migrations failed: {result.message}")
    await anyio.to_thread.run_sync(command.upgrade, alembic_config(settings), "head")

