"""Alembic environment: Comptoir's SQLAlchemy tables only (Piccolo owns the config tables)."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from comptoir.db.base import GUID
from comptoir.db.registry import Base

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # Piccolo's tables share the database: Alembic must neither see nor drop them.
    if type_ == "table":
        return name in target_metadata.tables
    return True


def compare_type(
    migration_context: Any, inspected_column: Any, metadata_column: Any, inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    # SQLite reflects our UUID columns' BINARY(16) as NUMERIC: the same column, not a change.
    if migration_context.dialect.name == "sqlite" and isinstance(metadata_type, GUID):
        return False
    return None  # Alembic's own comparison


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=compare_type,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    from comptoir.db.engine import create_engine
    from comptoir.settings import load_settings

    settings = config.attributes.get("settings") or load_settings()
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        include_name=include_name,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async())
