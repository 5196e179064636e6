"""Many rows in one statement: any number of them, conflicts skipped when asked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event, func, select

from comptoir.db.bulk import insert_rows
from comptoir.orders.models import OrderNumberCounter


async def test_ten_thousand_rows_go_in_one_statement_and_repeats_are_skipped(
    app: Any, sessionmaker: Any,
) -> None:
    table: Table = OrderNumberCounter.__table__  # type: ignore[assignment]
    rows = [{"year": 3000 + n, "last": n} for n in range(10_000)]
    inserts: list[str] = []
    engine = app.state.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        async with sessionmaker() as session, session.begin():
            await insert_rows(session, table, rows)
            await insert_rows(session, table, [*rows[:10], {"year": 20_000, "last": 7}],
                              skip_conflicts=True)
            count = await session.scalar(select(func.count()).select_from(table).where(
                table.c.year >= 3000))
            await session.execute(table.delete().where(table.c.year >= 3000))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert count == 10_001
    assert len(inserts) == 2  # SQLite too: one statement each, executed for every row
