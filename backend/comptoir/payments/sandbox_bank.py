"""The sandbox bank as a process of its own, its operations kept in a SQLite file.

    python -m comptoir.payments.sandbox_bank --port 8765 --db var/sandbox-bank.db

Comptoir talks to it when ``COMPTOIR_SANDBOX_BANK_URL=http://127.0.0.1:8765`` is set
(``providers/sandbox_banks.HttpBank``). What it performed outlives it and Comptoir (a
``kill -9`` of either loses nothing committed), and can be read back: ``GET /operations``,
or ``sqlite3 var/sandbox-bank.db 'select * from operations'``. The decisions are those of
``providers/sandbox_outcomes.py``, whose docstring is the specification.

- ``POST /operations`` (body: a ``ProviderCall``, header ``Idempotency-Key``): perform it,
  or count a repeat and give back the first answer; 409 when the key was used for another
  call.
- ``GET /operations``: every operation, oldest first (``BankRecord``).
- ``POST /operations/{key}/settle``: make a pending operation final.
- ``POST /operations/{key}/webhook`` (body, optional: ``{"deliver_to": url}``): settle it,
  and give its signed webhook (``{"body", "signature"}``), delivered to ``deliver_to``
  (Comptoir's ``/api/payments/webhooks/sandbox``) when given.
- ``GET /health``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import msgspec
from litestar import Litestar, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from comptoir.payments.providers.base import ProviderCall
from comptoir.payments.providers.sandbox import DEMO_WEBHOOK_SECRET, event_of, sign_webhook
from comptoir.payments.providers.sandbox_banks import (
    Bank,
    BankRecord,
    KeyReused,
    asked_again,
    first_record,
    settled,
)

__all__ = ["SqliteBank", "WebhookRequest", "WebhookSent", "create_bank_app", "main"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    key TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reference TEXT,
    status TEXT NOT NULL,
    times_asked INTEGER NOT NULL,
    record TEXT NOT NULL  -- the BankRecord as JSON; the columns before are for reading
)
"""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SqliteBank(Bank):
    """A bank whose operations are rows of a SQLite file (one row per idempotency key)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        # IMMEDIATE: two bank processes on one file still perform a key once.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _load(self, key: str) -> BankRecord | None:
        row = self._db.execute("SELECT record FROM operations WHERE key = ?", (key,)).fetchone()
        return None if row is None else msgspec.json.decode(row[0], type=BankRecord)

    def _store(self, record: BankRecord) -> None:
        self._db.execute(
            "INSERT INTO operations (key, operation, amount, currency, reference, status, "
            "times_asked, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE "
            "SET status = excluded.status, times_asked = excluded.times_asked, "
            "record = excluded.record",
            (record.key, record.operation.value, record.amount, record.currency,
             record.reference, record.status, record.times_asked,
             msgspec.json.encode(record).decode()),
        )

    async def perform(self, call: ProviderCall) -> BankRecord:
        with self._transaction():
            found = self._load(call.idempotency_key)
            record = (first_record(call, now=_utcnow()) if found is None
                      else asked_again(found, call))
            self._store(record)
        return record

    async def operations(self) -> list[BankRecord]:
        rows = self._db.execute("SELECT record FROM operations ORDER BY rowid").fetchall()
        return [msgspec.json.decode(row[0], type=BankRecord) for row in rows]

    async def settle(self, key: str) -> BankRecord:
        with self._transaction():
            found = self._load(key)
            if found is None:
                raise KeyError(key)
            record = settled(found, now=_utcnow())
            self._store(record)
        return record


class WebhookRequest(msgspec.Struct, frozen=True, kw_only=True):
    deliver_to: str | None = None


class WebhookSent(msgspec.Struct, frozen=True, kw_only=True):
    """A signed webhook: its body and ``Sandbox-Signature``; with ``deliver_to``, the status
    Comptoir answered (or the error that kept it from answering)."""

    body: str
    signature: str
    delivered_status: int | None = None
    delivery_error: str | None = None


def create_bank_app(bank: SqliteBank, *, webhook_secret: str = DEMO_WEBHOOK_SECRET) -> Litestar:
    """The bank's HTTP face (routes in this module's docstring)."""

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @post("/operations", status_code=200)
    async def perform(
        data: ProviderCall,
        idempotency_key: str = Parameter(header="idempotency-key"),
    ) -> Response[BankRecord | dict[str, str]]:
        if idempotency_key != data.idempotency_key:
            return Response({"detail": f"Idempotency-Key is not {data.idempotency_key}"},
                            status_code=400)
        try:
            return Response(await bank.perform(data), status_code=200)
        except KeyReused as exc:
            return Response({"detail": str(exc)}, status_code=409)

    @get("/operations")
    async def operations() -> list[BankRecord]:
        return await bank.operations()

    async def _settle(key: str) -> BankRecord:
        try:
            return await bank.settle(key)
        except KeyError:
            raise NotFoundException(f"no operation with the key {key}") from None

    @post("/operations/{key:str}/settle", status_code=200)
    async def settle(key: str) -> BankRecord:
        return await _settle(key)

    @post("/operations/{key:str}/webhook", status_code=200)
    async def webhook(key: str, data: WebhookRequest | None = None) -> WebhookSent:
        now = _utcnow()
        signed = sign_webhook(event_of(await _settle(key), now=now), secret=webhook_secret,
                              now=now)
        sent = WebhookSent(body=signed.body.decode(), signature=signed.signature)
        if data is None or not data.deliver_to:
            return sent
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(data.deliver_to, content=signed.body,
                                           headers=signed.headers)
        except httpx.TransportError as exc:
            return msgspec.structs.replace(sent, delivery_error=repr(exc))
        return msgspec.structs.replace(sent, delivered_status=answer.status_code)

    return Litestar([health, perform, operations, settle, webhook], debug=False)


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m comptoir.payments.sandbox_bank",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", type=Path, default=Path("var/sandbox-bank.db"),
                        help="the SQLite file of the bank's operations (made when missing)")
    parser.add_argument("--webhook-secret",
                        default=os.environ.get("COMPTOIR_SANDBOX_WEBHOOK_SECRET")
                        or DEMO_WEBHOOK_SECRET,
                        help="signs the webhooks (COMPTOIR_SANDBOX_WEBHOOK_SECRET, else the "
                        "demo's)")
    args = parser.parse_args(argv)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    bank = SqliteBank(args.db)
    print(f"sandbox bank on http://{args.host}:{args.port}, operations in {args.db}",
          flush=True)
    try:
        uvicorn.run(create_bank_app(bank, webhook_secret=args.webhook_secret),
                    host=args.host, port=args.port, log_level="warning")
    finally:
        bank.close()


if __name__ == "__main__":
    main()
