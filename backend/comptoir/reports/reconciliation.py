"""The day's reconciliation, pure: what left, what was charged, what was invoiced, and where
they do not agree.

Given plain rows (what each order concerned costs, what of it left, its ledger, its
documents; the day's captures and refunds; the calls still pending), ``reconcile`` returns
the findings, section by section. All amounts are minor units of the order's currency;
``expected`` and ``actual`` are what the section compares, ``amount`` the gap (never
negative), which the section totals per currency.

- ``left_not_captured``: goods shipped or handed over that day, on an order paid through
  Comptoir, and what it kept of the customer's money (captured - refunded) is less than the
  goods that left are worth (``payments.rules.goods_value``), less what credit notes took
  back (returned goods are owed no more).
- ``left_without_payment``: the same goods, on an order with no payment transaction at all
  (paid at the counter, on account, or never): worth what left.
- ``captured_not_invoiced``: a capture succeeded that day and the order's invoices state
  less than it has captured in all.
- ``refunded_without_credit_note``: a refund succeeded that day without a credit note, on
  an order that has invoices (a refund for goods never invoiced — a cancellation — needs
  none).
- ``invoiced_differs``: an order invoiced, credited, captured or refunded that day whose
  invoiced - credited is not its captured - refunded.
- ``pending_calls``: transactions their provider has not answered for more than an hour,
  whatever the day.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from comptoir.money import format_money, minor_digits
from comptoir.payments.rules import Kind, Ledger, LineValue, goods_value

__all__ = [
    "PENDING_AFTER",
    "DayMoves",
    "Finding",
    "Language",
    "OrderFacts",
    "PendingCall",
    "Refund",
    "Section",
    "SectionReport",
    "decimal",
    "describe",
    "reconcile",
]

PENDING_AFTER = dt.timedelta(hours=1)
Language = Literal["fr", "en"]


class Section(StrEnum):
    LEFT_NOT_CAPTURED = "left_not_captured"
    LEFT_WITHOUT_PAYMENT = "left_without_payment"
    CAPTURED_NOT_INVOICED = "captured_not_invoiced"
    REFUNDED_WITHOUT_CREDIT_NOTE = "refunded_without_credit_note"
    INVOICED_DIFFERS = "invoiced_differs"
    PENDING_CALLS = "pending_calls"


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """An order concerned by the day: what it costs, what of it left, its money and its
    documents. ``ledger`` is None when the order has no payment transaction at all."""

    number: str
    currency: str
    total: int
    everything_left: bool
    lines: tuple[LineValue, ...]
    shipping: int
    ledger: Ledger | None
    invoiced: int = 0
    credited: int = 0
    invoices: tuple[str, ...] = ()
    credit_notes: tuple[str, ...] = ()

    @property
    def worth_left(self) -> int:
        return goods_value(self.lines, self.shipping, order_total=self.total,
                           everything_left=self.everything_left)

    @property
    def kept(self) -> int:
        """What the customer paid and was not given back."""
        return self.ledger.balance if self.ledger is not None else 0

    @property
    def awaiting_capture(self) -> int:
        """Captures asked and not answered yet."""
        if self.ledger is None:
            return 0
        return self.ledger.capture_asked - self.ledger.balance


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund that succeeded on the day."""

    order_number: str
    transaction_id: uuid.UUID
    amount: int
    currency: str
    credit_note: str | None
    trigger: str


@dataclass(frozen=True, slots=True)
class PendingCall:
    order_number: str
    transaction_id: uuid.UUID
    kind: Kind
    provider: str
    amount: int
    currency: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DayMoves:
    """What happened on the day, by order number."""

    left: frozenset[str] = frozenset()  # goods shipped or handed over
    captured: Mapping[str, int] = field(default_factory=dict)  # captures succeeded, summed
    refunds: Sequence[Refund] = ()  # refunds succeeded
    documented: frozenset[str] = frozenset()  # invoices or credit notes issued


@dataclass(frozen=True, slots=True)
class Finding:
    section: Section
    order_number: str
    currency: str
    amount: int  # the gap, never negative: what the section totals
    expected: int
    actual: int
    captured_today: int = 0
    awaiting: int = 0  # captures asked and not answered yet
    transaction_id: uuid.UUID | None = None
    kind: str | None = None
    provider: str | None = None
    since: dt.datetime | None = None
    invoices: tuple[str, ...] = ()
    credit_notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SectionReport:
    section: Section
    findings: tuple[Finding, ...]

    @property
    def totals(self) -> dict[str, int]:
        """The findings' gaps summed per currency."""
        sums: dict[str, int] = {}
        for finding in self.findings:
            sums[finding.currency] = sums.get(finding.currency, 0) + finding.amount
        return dict(sorted(sums.items()))


def _left(orders: Mapping[str, OrderFacts], day: DayMoves) -> tuple[list[Finding],
                                                                     list[Finding]]:
    not_captured, unpaid = [], []
    for number in sorted(day.left):
        order = orders.get(number)
        if order is None:
            continue
        worth = order.worth_left
        if order.ledger is None:
            if worth > 0:
                unpaid.append(Finding(Section.LEFT_WITHOUT_PAYMENT, number, order.currency,
                                      worth, expected=worth, actual=0, invoices=order.invoices,
                                      credit_notes=order.credit_notes))
            continue
        due = max(worth - order.credited, 0)
        if order.kept < due:
            not_captured.append(Finding(
                Section.LEFT_NOT_CAPTURED, number, order.currency, due - order.kept,
                expected=due, actual=order.kept, awaiting=order.awaiting_capture,
                invoices=order.invoices, credit_notes=order.credit_notes))
    return not_captured, unpaid


def _captured_not_invoiced(orders: Mapping[str, OrderFacts], day: DayMoves) -> list[Finding]:
    found = []
    for number, today in sorted(day.captured.items()):
        order = orders.get(number)
        if order is None or order.ledger is None:
            continue
        captured = order.ledger.captured
        if order.invoiced < captured:
            found.append(Finding(Section.CAPTURED_NOT_INVOICED, number, order.currency,
                                 captured - order.invoiced, expected=captured,
                                 actual=order.invoiced, captured_today=today,
                                 invoices=order.invoices, credit_notes=order.credit_notes))
    return found


def _refunded(orders: Mapping[str, OrderFacts], day: DayMoves) -> list[Finding]:
    found = []
    for refund in sorted(day.refunds, key=lambda r: (r.order_number, str(r.transaction_id))):
        order = orders.get(refund.order_number)
        if (refund.credit_note or order is None or not order.invoices
                or refund.trigger == "cancellation"):
            continue
        found.append(Finding(Section.REFUNDED_WITHOUT_CREDIT_NOTE, refund.order_number,
                             refund.currency, refund.amount, expected=refund.amount, actual=0,
                             transaction_id=refund.transaction_id, invoices=order.invoices,
                             credit_notes=order.credit_notes))
    return found


def _differs(orders: Mapping[str, OrderFacts], day: DayMoves) -> list[Finding]:
    concerned = day.documented | set(day.captured) | {r.order_number for r in day.refunds}
    found = []
    for number in sorted(concerned):
        order = orders.get(number)
        if order is None or order.ledger is None:
            continue
        invoiced = order.invoiced - order.credited
        if invoiced != order.kept:
            found.append(Finding(Section.INVOICED_DIFFERS, number, order.currency,
                                 abs(invoiced - order.kept), expected=invoiced,
                                 actual=order.kept, awaiting=order.awaiting_capture,
                                 invoices=order.invoices, credit_notes=order.credit_notes))
    return found


def _pending(calls: Iterable[PendingCall], now: dt.datetime) -> list[Finding]:
    return [Finding(Section.PENDING_CALLS, call.order_number, call.currency, call.amount,
                    expected=call.amount, actual=0, transaction_id=call.transaction_id,
                    kind=call.kind.value, provider=call.provider, since=call.created_at)
            for call in calls if call.created_at <= now - PENDING_AFTER]


def reconcile(orders: Mapping[str, OrderFacts], day: DayMoves, pending: Iterable[PendingCall],
              *, now: dt.datetime) -> list[SectionReport]:
    """Every section, in the order a manager reads them, each with its findings (none:
    nothing to report)."""
    not_captured, unpaid = _left(orders, day)
    found = {
        Section.LEFT_NOT_CAPTURED: not_captured,
        Section.LEFT_WITHOUT_PAYMENT: unpaid,
        Section.CAPTURED_NOT_INVOICED: _captured_not_invoiced(orders, day),
        Section.REFUNDED_WITHOUT_CREDIT_NOTE: _refunded(orders, day),
        Section.INVOICED_DIFFERS: _differs(orders, day),
        Section.PENDING_CALLS: _pending(pending, now),
    }
    return [SectionReport(section, tuple(found[section])) for section in Section]


# --- wording --------------------------------------------------------------------------------


def decimal(minor: int, currency: str) -> str:
    """1234, "EUR" -> "12.34" (a point, no grouping: for spreadsheets and accountants)."""
    digits = minor_digits(currency)
    if not digits:
        return str(minor)
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 10**digits)
    return f"{sign}{units}.{cents:0{digits}d}"


_KIND_FR = {"authorization": "Autorisation", "capture": "Encaissement", "void": "Annulation",
            "refund": "Remboursement"}


def describe(finding: Finding, language: Language) -> str:
    """What differs, in a sentence a manager reads (French or English)."""

    def money(minor: int) -> str:
        return format_money(minor, finding.currency, language)

    exp, act, gap = money(finding.expected), money(finding.actual), money(finding.amount)
    awaiting = money(finding.awaiting)
    fr = language == "fr"
    match finding.section:
        case Section.LEFT_NOT_CAPTURED:
            text = (f"Marchandise partie pour {exp}, encaissé {act} : il manque {gap}"
                    if fr else f"Goods worth {exp} left, {act} captured: {gap} missing")
            if finding.awaiting:
                text += (f" ({awaiting} en attente du prestataire)" if fr
                         else f" ({awaiting} awaiting the provider)")
            return text
        case Section.LEFT_WITHOUT_PAYMENT:
            return (f"Marchandise partie pour {exp}, aucun paiement par Comptoir" if fr
                    else f"Goods worth {exp} left, no payment through Comptoir")
        case Section.CAPTURED_NOT_INVOICED:
            today = money(finding.captured_today)
            return (f"Encaissé {exp} (dont {today} ce jour), facturé {act} : {gap} sans facture"
                    if fr else
                    f"Captured {exp} ({today} that day), invoiced {act}: {gap} not invoiced")
        case Section.REFUNDED_WITHOUT_CREDIT_NOTE:
            return (f"Remboursé {gap} sans avoir" if fr
                    else f"Refunded {gap} without a credit note")
        case Section.INVOICED_DIFFERS:
            text = (f"Facturé net {exp}, encaissé net {act} : écart {gap}" if fr
                    else f"Invoiced {exp} net of credit notes, captured {act} net of "
                         f"refunds: {gap} apart")
            if finding.awaiting:
                text += (f" ({awaiting} en attente du prestataire)" if fr
                         else f" ({awaiting} awaiting the provider)")
            return text
        case Section.PENDING_CALLS:
            kind = (_KIND_FR if fr else {}).get(finding.kind or "", finding.kind)
            since = finding.since.strftime("%Y-%m-%d %H:%M UTC") if finding.since else "?"
            return (f"{kind} de {gap} chez {finding.provider} sans réponse depuis {since}"
                    if fr else
                    f"{kind} of {gap} at {finding.provider} unanswered since {since}")
