"""The Piccolo engine, on the same database as SQLAlchemy."""

from __future__ import annotations

import os

from piccolo.apps.user.tables import BaseUser
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table
from piccolo_api.session_auth.tables import SessionsBase

from comptoir.settings import Settings

__all__ = ["all_tables", "bind_piccolo", "make_piccolo_engine"]

os.environ.setdefault("PICCOLO_CONF", "comptoir.config.piccolo_conf")


def make_piccolo_engine(settings: Settings) -> Engine:  # type: ignore[type-arg]
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(settings.sqlite_path), timeout=30)
    return PostgresEngine(config={"dsn": settings.postgres_dsn})


def all_tables() -> list[type[Table]]:
    from comptoir.config.piccolo_app import APP_CONFIG

    return [BaseUser, SessionsBase, *APP_CONFIG.table_classes]


def bind_piccolo(engine: Engine) -> None:  # type: ignore[type-arg]
    """Point every Piccolo table, and Piccolo's migrations, at ``engine``."""
    from piccolo.apps.migrations.tables import Migration

    from comptoir.config import piccolo_conf

    piccolo_conf.DB = engine
    tables: list[type[Table]] = [*all_tables(), Migration]
    for table in tables:
        table._meta.db = engine
