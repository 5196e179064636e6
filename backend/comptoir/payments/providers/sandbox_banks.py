"""The sandbox's bank: each operation performed once per idempotency key, in this process's
memory or in a bank process of its own.

The bank
--------

The bank is the provider's side: it records every operation it performed under its
idempotency key (operation, amount, currency, reference, status, times asked). A key asked
again is not performed again: the bank gives back its first answer and counts the repeat.
The same key with another operation, amount, currency or source is refused
(``idempotency_key_reused``, nothing performed). ``MemoryBank`` lives in this process (the
default, one per process, for ``make run`` and most tests); ``HttpBank`` talks to a sandbox
bank process (``python -m comptoir.payments.sandbox_bank --port 8765 --db var/bank.db``,
state in SQLite) when ``COMPTOIR_SANDBOX_BANK_URL`` is set. A bank that does not answer
is ``ProviderUnavailable``.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping
from typing import Literal, TypeVar

import httpx
import msgspec

from comptoir.db.base import utcnow
from comptoir.payments.providers.base import (
    Answer,
    Operation,
    ProviderCall,
    ProviderUnavailable,
)
from comptoir.payments.providers.sandbox_outcomes import (
    REFUSED_AUTHORIZATIONS,
    Behaviour,
    behaviour_of,
    outcome,
)

__all__ = [
    "MEMORY_BANK",
    "Bank",
    "BankRecord",
    "HttpBank",
    "KeyReused",
    "MemoryBank",
    "asked_again",
    "first_record",
    "settled",
]

BANK_TIMEOUT_SECONDS = 10.0
T = TypeVar("T")


class BankRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One operation the bank performed. ``status``: where it stands now (a pending one
    becomes final when settled); ``answer``: the first answer, given to every repeat."""

    key: str
    call: ProviderCall
    status: Literal["succeeded", "failed", "pending"]
    answer: Answer
    times_asked: int
    performed_at: dt.datetime
    failure_code: str | None = None
    message: str | None = None
    settled_at: dt.datetime | None = None

    @property
    def operation(self) -> Operation:
        return self.call.operation

    @property
    def amount(self) -> int:
        return self.call.amount

    @property
    def currency(self) -> str:
        return self.call.currency

    @property
    def reference(self) -> str | None:
        return self.answer.reference

    @property
    def repeats(self) -> int:
        return self.times_asked - 1


class KeyReused(Exception):
    """An idempotency key asked again with another call: refused, nothing performed."""


def first_record(call: ProviderCall, *, now: dt.datetime) -> BankRecord:
    """What the bank records when it performs ``call`` (its key seen for the first time)."""
    answer = outcome(call)
    return BankRecord(key=call.idempotency_key, call=call, status=answer.status, answer=answer,
                      times_asked=1, performed_at=now, failure_code=answer.failure_code,
                      message=answer.message)


def asked_again(record: BankRecord, call: ProviderCall) -> BankRecord:
    """The record once ``call`` asks its key again: one more ask, nothing performed."""
    if call != record.call:
        raise KeyReused(f"The idempotency key {record.key} was used for another call "
                        f"({record.operation.value} of {record.amount} {record.currency} "
                        f"from {record.call.source}).")
    return msgspec.structs.replace(record, times_asked=record.times_asked + 1)


def settled(record: BankRecord, *, now: dt.datetime) -> BankRecord:
    """A pending operation made final, as its token says; any other one as it is."""
    if record.status != "pending":
        return record
    if behaviour_of(record.call) is Behaviour.WEBHOOK_DECLINED:
        code, message = REFUSED_AUTHORIZATIONS[Behaviour.WEBHOOK_DECLINED]
        return msgspec.structs.replace(record, status="failed", failure_code=code,
                                       message=message, settled_at=now)
    return msgspec.structs.replace(record, status="succeeded", settled_at=now)


class Bank(abc.ABC):
    """Where sandbox operations are performed and remembered."""

    @abc.abstractmethod
    async def perform(self, call: ProviderCall) -> BankRecord:
        """Perform ``call`` the first time its key is seen; else count the repeat. Raises
        KeyReused (the key, another call) or ProviderUnavailable (no answer)."""

    @abc.abstractmethod
    async def operations(self) -> list[BankRecord]:
        """Every operation performed, oldest first."""

    @abc.abstractmethod
    async def settle(self, key: str) -> BankRecord:
        """Make the pending operation of ``key`` final; KeyError when the key is unknown."""


class MemoryBank(Bank):
    """A bank in this process's memory: gone with the process."""

    def __init__(self) -> None:
        self._records: dict[str, BankRecord] = {}

    async def perform(self, call: ProviderCall) -> BankRecord:
        found = self._records.get(call.idempotency_key)
        record = (first_record(call, now=utcnow()) if found is None
                  else asked_again(found, call))
        self._records[record.key] = record
        return record

    async def operations(self) -> list[BankRecord]:
        return list(self._records.values())

    async def settle(self, key: str) -> BankRecord:
        record = settled(self._records[key], now=utcnow())
        self._records[key] = record
        return record


class HttpBank(Bank):
    """A client of a sandbox bank process (``comptoir.payments.sandbox_bank``)."""

    def __init__(self, url: str, *, timeout: float = BANK_TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    async def _send(self, method: str, path: str, *, content: bytes | None = None,
                    headers: Mapping[str, str] | None = None) -> httpx.Response:
        # A client per request: nothing bound to one event loop outlives the call.
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout) as client:
                response = await client.request(method, path, content=content,
                                                 headers=headers)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"sandbox bank at {self.url}: {exc!r}") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(
                f"sandbox bank at {self.url}: {response.status_code} {response.text[:200]}")
        return response

    @staticmethod
    def _decode(response: httpx.Response, kind: type[T]) -> T:
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable(
                f"sandbox bank: unreadable answer {response.status_code}: "
                f"{response.text[:200]}") from exc

    async def perform(self, call: ProviderCall) -> BankRecord:
        response = await self._send(
            "POST", "/operations", content=msgspec.json.encode(call),
            headers={"idempotency-key": call.idempotency_key,
                     "content-type": "application/json"})
        if response.status_code == 409:
            raise KeyReused(response.text)
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"sandbox bank refused the call: {response.status_code} {response.text[:200]}")
        return self._decode(response, BankRecord)

    async def operations(self) -> list[BankRecord]:
        return self._decode(await self._send("GET", "/operations"), list[BankRecord])

    async def settle(self, key: str) -> BankRecord:
        response = await self._send("POST", f"/operations/{key}/settle")
        if response.status_code == 404:
            raise KeyError(key)
        return self._decode(response, BankRecord)


MEMORY_BANK = MemoryBank()  # the process's own, shared by every provider built without a URL
