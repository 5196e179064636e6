"""The reports' use cases, given a session: read what the day's reconciliation needs from
each domain's own reading functions, let ``reconciliation`` decide, and lay it out as JSON
or CSV. Nothing here writes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.errors import InvalidInput
from comptoir.fulfillment import reading as fulfillment
from comptoir.invoicing import reading as invoicing
from comptoir.invoicing.service import SELLER_TIME
from comptoir.orders import reading as orders
from comptoir.orders.lifecycle import ALL_LEFT
from comptoir.payments import reading as payments
from comptoir.payments.rules import Kind, LineValue
from comptoir.reports.reconciliation import (
    PENDING_AFTER,
    DayMoves,
    Finding,
    Language,
    OrderFacts,
    PendingCall,
    Refund,
    SectionReport,
    decimal,
    describe,
    reconcile,
)
from comptoir.reports.schemas import (
    FindingOut,
    LinkOut,
    ReconciliationOut,
    SectionOut,
    TotalOut,
)

__all__ = ["CSV_COLUMNS", "bounds", "csv_filename", "day_asked", "language_asked",
           "reconciliation", "to_csv"]

CHUNK = 500  # orders read at a time (an IN list every database takes)
CSV_COLUMNS = ("section", "order_number", "currency", "amount", "expected", "actual",
               "detail", "transaction_id")


def day_asked(value: str | None, now: dt.datetime) -> dt.date:
    """The day asked (YYYY-MM-DD), or today in the seller's calendar; 422 otherwise."""
    if value is None or not value.strip():
        return now.astimezone(SELLER_TIME).date()
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"date={value[:40]!r} is not a day: write it YYYY-MM-DD, e.g. "
                           f"{now.astimezone(SELLER_TIME).date().isoformat()}.",
                           code="invalid_date") from None


def language_asked(value: str | None, fallback: Language) -> Language:
    if value is None or not value.strip():
        return fallback
    wanted = value.strip().lower()
    if wanted not in ("fr", "en"):
        raise InvalidInput("lang is fr or en.", code="invalid_input")
    return "fr" if wanted == "fr" else "en"


def bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day's local midnight and the next one, in UTC (a 23- or 25-hour day when the
    clocks change)."""
    start = dt.datetime.combine(day, dt.time(), SELLER_TIME)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), SELLER_TIME)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def _facts(session: AsyncSession,
                 order_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, OrderFacts]:
    """What reconciliation needs of each order, read from its owners, a chunk at a time."""
    found: dict[uuid.UUID, OrderFacts] = {}
    ids = sorted(order_ids)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        amounts = await orders.amounts_of(session, chunk)
        delivered = await fulfillment.delivered_units_of(session, chunk)
        ledgers = await payments.ledgers_of(session, chunk)
        documents = await invoicing.invoiced_of(session, chunk)
        for order_id, order in amounts.items():
            left = delivered.get(order_id, {})
            stated = documents.get(order_id)
            found[order_id] = OrderFacts(
                number=order.number, currency=order.currency, total=order.total,
                everything_left=order.status in ALL_LEFT,
                lines=tuple(LineValue(line.total, line.quantity, left.get(line.id, 0))
                            for line in order.lines),
                shipping=order.total - sum(line.total for line in order.lines),
                ledger=ledgers.get(order_id),
                invoiced=stated.invoiced if stated else 0,
                credited=stated.credited if stated else 0,
                invoices=stated.invoices if stated else (),
                credit_notes=stated.credit_notes if stated else ())
    return found


async def reconciliation(session: AsyncSession, day: dt.date, *, now: dt.datetime,
                         language: Language) -> ReconciliationOut:
    """The day's reconciliation: load, decide (``reconcile``), lay out."""
    start, end = bounds(day)
    left = await fulfillment.goods_left_between(session, start, end)
    settled = await payments.settled_between(session, start, end, (Kind.CAPTURE, Kind.REFUND))
    documented = await invoicing.documented_between(session, start, end)
    facts = await _facts(session, left | documented | {s.order_id for s in settled})
    captured: dict[str, int] = {}
    for s in settled:
        if s.kind is Kind.CAPTURE:
            captured[s.order_number] = captured.get(s.order_number, 0) + s.amount
    moves = DayMoves(
        left=frozenset(facts[i].number for i in left if i in facts),
        captured=captured,
        refunds=[Refund(s.order_number, s.transaction_id, s.amount, s.currency, s.credit_note,
                        s.trigger) for s in settled if s.kind is Kind.REFUND],
        documented=frozenset(facts[i].number for i in documented if i in facts))
    pending = [PendingCall(p.order_number, p.transaction_id, p.kind, p.provider, p.amount,
                           p.currency, p.created_at)
               for p in await payments.pending_before(session, now - PENDING_AFTER)]
    sections = reconcile({f.number: f for f in facts.values()}, moves, pending, now=now)
    return ReconciliationOut(
        date=day, time_zone=str(SELLER_TIME), start=start, end=end, generated_at=now,
        language=language, clean=not any(s.findings for s in sections),
        sections=[_section_out(s, language) for s in sections])


# --- layout ---------------------------------------------------------------------------------


def _links(finding: Finding) -> list[LinkOut]:
    return [LinkOut(kind="order", label=finding.order_number,
                    path=f"/orders/{finding.order_number}"),
            *(LinkOut(kind="invoice", label=n, path=f"/invoices/{n}") for n in finding.invoices),
            *(LinkOut(kind="credit_note", label=n, path=f"/credit-notes/{n}")
              for n in finding.credit_notes)]


def _finding_out(finding: Finding, language: Language) -> FindingOut:
    return FindingOut(
        section=finding.section.value, order_number=finding.order_number,
        currency=finding.currency, amount=finding.amount, expected=finding.expected,
        actual=finding.actual, detail=describe(finding, language),
        captured_today=finding.captured_today, awaiting=finding.awaiting,
        transaction_id=finding.transaction_id, kind=finding.kind, provider=finding.provider,
        since=finding.since, links=_links(finding))


def _section_out(section: SectionReport, language: Language) -> SectionOut:
    return SectionOut(
        section=section.section.value, count=len(section.findings),
        totals=[TotalOut(currency=c, amount=a) for c, a in section.totals.items()],
        findings=[_finding_out(f, language) for f in section.findings])


def to_csv(report: ReconciliationOut) -> str:
    """One row per finding, amounts in decimal (a point) beside their currency."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for section in report.sections:
        for f in section.findings:
            writer.writerow([section.section, f.order_number, f.currency,
                             decimal(f.amount, f.currency), decimal(f.expected, f.currency),
                             decimal(f.actual, f.currency), f.detail,
                             str(f.transaction_id) if f.transaction_id else ""])
    return out.getvalue()


def csv_filename(day: dt.date) -> str:
    return f"rapprochement-{day:%Y%m%d}.csv"
