"""Reports on the wire: the day's reconciliation, section by section."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

__all__ = ["FindingOut", "LinkOut", "ReconciliationOut", "SectionOut", "TotalOut"]


class LinkOut(msgspec.Struct, frozen=True, kw_only=True):
    """Something the PWA can open: ``path`` is the app's own route."""

    kind: str  # order | invoice | credit_note
    label: str  # the order's or the document's number
    path: str


class FindingOut(msgspec.Struct, frozen=True, kw_only=True):
    """One order (or one transaction of it) that does not reconcile. Amounts in minor units
    of ``currency``: ``expected`` and ``actual`` are what the section compares, ``amount``
    the gap between them (never negative)."""

    section: str
    order_number: str
    currency: str
    amount: int
    expected: int
    actual: int
    detail: str  # what differs, in the language asked
    captured_today: int = 0  # captured_not_invoiced: what of it was captured that day
    awaiting: int = 0  # captures asked and not answered by the provider yet
    transaction_id: uuid.UUID | None = None  # a refund's, a pending call's
    kind: str | None = None  # a pending call's: authorization | capture | void | refund
    provider: str | None = None
    since: dt.datetime | None = None  # a pending call's: when it was written
    links: list[LinkOut] = []


class TotalOut(msgspec.Struct, frozen=True, kw_only=True):
    currency: str
    amount: int


class SectionOut(msgspec.Struct, frozen=True, kw_only=True):
    """``section``: left_not_captured | left_without_payment | captured_not_invoiced |
    refunded_without_credit_note | invoiced_differs | pending_calls. No findings: nothing
    to report."""

    section: str
    count: int
    totals: list[TotalOut]  # the gaps summed per currency
    findings: list[FindingOut]


class ReconciliationOut(msgspec.Struct, frozen=True, kw_only=True):
    """A day of the retailer's calendar (``time_zone``), from ``start`` (its local
    midnight, in UTC) to ``end`` (the next one)."""

    date: dt.date
    time_zone: str
    start: dt.datetime
    end: dt.datetime
    generated_at: dt.datetime
    language: str
    clean: bool  # no section has anything to report
    sections: list[SectionOut]
