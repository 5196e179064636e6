"""The baseline for order_capture.py: a minimal Litestar app doing one INSERT per request.

It reads the same capture body with msgspec, inserts one row into ``bench_baseline_orders``
on Comptoir's database through Comptoir's own engine factory (same driver, pool and SQLite
pragmas), and answers 201 with a small JSON body. Served by uvicorn exactly as
``comptoir serve`` serves Comptoir:

    python benchmarks/_baseline_app.py --port 8100 --workers 2   # COMPTOIR_DATABASE_URL=...
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
from litestar import Litestar, Request, Response, get, post
from sqlalchemy import Column, Integer, MetaData, String, Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "backend"))

from advanced_alchemy.types import GUID, DateTimeUTC

from comptoir.db.engine import create_engine
from comptoir.settings import load_settings

metadata = MetaData()
BASELINE_ORDERS = Table(
    "bench_baseline_orders", metadata,
    Column("id", GUID, primary_key=True),
    Column("external_ref", String(80)),
    Column("email", String(254)),
    Column("units", Integer),
    Column("created_at", DateTimeUTC(timezone=True)),
)


class Line(msgspec.Struct):
    sku: str
    quantity: int
    unit_price: int | None = None


class Customer(msgspec.Struct):
    email: str
    name: str | None = None
    phone: str | None = None


class Body(msgspec.Struct):
    lines: list[Line]
    delivery: dict[str, object]
    external_ref: str | None = None
    currency: str | None = None
    customer: Customer | None = None


class Answer(msgspec.Struct):
    id: uuid.UUID
    external_ref: str | None


def create_app() -> Litestar:
    settings = load_settings()
    engine = create_engine(settings)
    insert = BASELINE_ORDERS.insert()

    @post("/orders", status_code=201)
    async def capture(request: Request, data: Body) -> Response[Answer]:
        row_id = uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(insert, {
                "id": row_id, "external_ref": data.external_ref,
                "email": data.customer.email if data.customer else None,
                "units": sum(line.quantity for line in data.lines),
                "created_at": dt.datetime.now(dt.UTC),
            })
        return Response(Answer(id=row_id, external_ref=data.external_ref), status_code=201)

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    return Litestar([capture, health], lifespan=[lifespan])


def main() -> None:
    from comptoir.web import serving

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # The same options as `comptoir serve` (cli.py), so only the application differs.
    serving.run("_baseline_app:create_app", factory=True, app_dir=str(Path(__file__).parent),
                host="127.0.0.1", port=args.port, workers=args.workers,
                log_level="warning", proxy_headers=True, access_log=False)


if __name__ == "__main__":
    main()
