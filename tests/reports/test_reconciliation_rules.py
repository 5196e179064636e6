"""The reconciliation's decisions, without a database: plain rows in, findings out."""

from __future__ import annotations

import datetime as dt
import uuid

from comptoir.payments.rules import Kind, Ledger, LineValue, Tx, TxStatus
from comptoir.reports.reconciliation import (
    DayMoves,
    Finding,
    OrderFacts,
    PendingCall,
    Refund,
    Section,
    decimal,
    describe,
    reconcile,
)

NOW = dt.datetime(2026, 12, 3, 18, 0, tzinfo=dt.UTC)


def ledger(*moves: tuple[Kind, int, TxStatus]) -> Ledger:
    return Ledger.of(Tx(id=uuid.uuid4(), kind=kind, amount=amount, status=status)
                     for kind, amount, status in moves)


def paid(captured: int, refunded: int = 0, pending_capture: int = 0) -> Ledger:
    moves = [(Kind.AUTHORIZATION, captured + pending_capture, TxStatus.SUCCEEDED)]
    if captured:
        moves.append((Kind.CAPTURE, captured, TxStatus.SUCCEEDED))
    if refunded:
        moves.append((Kind.REFUND, refunded, TxStatus.SUCCEEDED))
    if pending_capture:
        moves.append((Kind.CAPTURE, pending_capture, TxStatus.PENDING))
    return ledger(*moves)


def order(number: str = "CMP-1", *, ledger: Ledger | None, left: int = 2, quantity: int = 2,
          line_total: int = 2000, shipping: int = 490, invoiced: int = 0, credited: int = 0,
          invoices: tuple[str, ...] = ()) -> OrderFacts:
    return OrderFacts(number=number, currency="EUR", total=line_total + shipping,
                      everything_left=left == quantity,
                      lines=(LineValue(line_total, quantity, left),), shipping=shipping,
                      ledger=ledger, invoiced=invoiced, credited=credited, invoices=invoices)


def found(orders: list[OrderFacts], day: DayMoves,
          pending: tuple[PendingCall, ...] = ()) -> dict[Section, list[Finding]]:
    sections = reconcile({o.number: o for o in orders}, day, pending, now=NOW)
    assert [s.section for s in sections] == list(Section)
    return {s.section: list(s.findings) for s in sections if s.findings}


def test_an_order_charged_and_invoiced_for_what_left_is_not_reported() -> None:
    facts = order(ledger=paid(2490), invoiced=2490, invoices=("FA-1",))
    day = DayMoves(left=frozenset({"CMP-1"}), captured={"CMP-1": 2490},
                   documented=frozenset({"CMP-1"}))
    assert found([facts], day) == {}


def test_a_parcel_is_worth_its_share_of_the_line_and_the_shipping() -> None:
    facts = order(ledger=paid(0, pending_capture=0), left=1, quantity=2)  # authorized only
    [finding] = found([facts], DayMoves(left=frozenset({"CMP-1"})))[Section.LEFT_NOT_CAPTURED]
    assert (finding.expected, finding.actual, finding.amount) == (1000 + 490, 0, 1490)


def test_a_capture_still_pending_is_said_to_be_awaited() -> None:
    facts = order(ledger=paid(0, pending_capture=2490))
    [finding] = found([facts], DayMoves(left=frozenset({"CMP-1"})))[Section.LEFT_NOT_CAPTURED]
    assert (finding.amount, finding.awaiting) == (2490, 2490)
    assert "2490" not in describe(finding, "en")
    assert describe(finding, "en") == ("Goods worth €24.90 left, €0.00 captured: "
                                       "€24.90 missing (€24.90 awaiting the provider)")
    assert describe(finding, "fr") == (
        "Marchandise partie pour 24,90\u00a0€, encaissé 0,00\u00a0€ : il manque 24,90\u00a0€ "
        "(24,90\u00a0€ en attente du prestataire)")


def test_goods_credited_back_are_owed_no_more() -> None:
    facts = order(ledger=paid(2490, refunded=1000), invoiced=2490, credited=1000,
                  invoices=("FA-1",))
    day = DayMoves(left=frozenset({"CMP-1"}), captured={"CMP-1": 2490},
                   documented=frozenset({"CMP-1"}))
    assert found([facts], day) == {}


def test_an_order_with_no_transaction_is_left_without_payment_not_hidden() -> None:
    facts = order(ledger=None)
    result = found([facts], DayMoves(left=frozenset({"CMP-1"})))
    assert list(result) == [Section.LEFT_WITHOUT_PAYMENT]
    [finding] = result[Section.LEFT_WITHOUT_PAYMENT]
    assert (finding.amount, finding.expected, finding.actual) == (2490, 2490, 0)


def test_a_declined_card_is_an_order_paid_through_comptoir_and_not_captured() -> None:
    facts = order(ledger=ledger((Kind.AUTHORIZATION, 2490, TxStatus.FAILED)))
    result = found([facts], DayMoves(left=frozenset({"CMP-1"})))
    assert list(result) == [Section.LEFT_NOT_CAPTURED]


def test_captured_more_than_invoiced_counts_everything_captured_and_says_what_was_today() -> None:
    facts = order(ledger=paid(2490), invoiced=1490, invoices=("FA-1",))
    day = DayMoves(captured={"CMP-1": 1000})
    result = found([facts], day)
    [missing] = result[Section.CAPTURED_NOT_INVOICED]
    assert (missing.amount, missing.expected, missing.actual, missing.captured_today) == (
        1000, 2490, 1490, 1000)
    [differs] = result[Section.INVOICED_DIFFERS]
    assert (differs.amount, differs.expected, differs.actual) == (1000, 1490, 2490)


def test_a_refund_without_credit_note_is_reported_only_when_goods_were_invoiced() -> None:
    tx = uuid.uuid4()
    refund = Refund("CMP-1", tx, 500, "EUR", None, "staff")
    invoiced = order(ledger=paid(2490, refunded=500), invoiced=2490, invoices=("FA-1",))
    [finding] = found([invoiced], DayMoves(refunds=[refund]))[
        Section.REFUNDED_WITHOUT_CREDIT_NOTE]
    assert (finding.amount, finding.transaction_id, finding.invoices) == (500, tx, ("FA-1",))

    never_invoiced = order(ledger=paid(2490, refunded=500), left=0)
    assert Section.REFUNDED_WITHOUT_CREDIT_NOTE not in found(
        [never_invoiced], DayMoves(refunds=[refund]))
    noted = Refund("CMP-1", tx, 500, "EUR", "AV-1", "staff")
    assert Section.REFUNDED_WITHOUT_CREDIT_NOTE not in found(
        [invoiced], DayMoves(refunds=[noted]))
    cancelled = Refund("CMP-1", tx, 500, "EUR", None, "cancellation")
    assert Section.REFUNDED_WITHOUT_CREDIT_NOTE not in found(
        [invoiced], DayMoves(refunds=[cancelled]))


def test_invoiced_and_captured_are_compared_net_of_credits_and_refunds() -> None:
    facts = order(ledger=paid(2490, refunded=500), invoiced=2490, credited=300,
                  invoices=("FA-1",))
    [finding] = found([facts], DayMoves(documented=frozenset({"CMP-1"})))[
        Section.INVOICED_DIFFERS]
    assert (finding.expected, finding.actual, finding.amount) == (2190, 1990, 200)


def test_an_order_untouched_that_day_is_not_compared() -> None:
    facts = order(ledger=paid(2490), invoiced=0)
    assert found([facts], DayMoves()) == {}


def test_only_calls_older_than_an_hour_are_pending_and_totals_are_per_currency() -> None:
    def call(minutes: int, currency: str = "EUR", amount: int = 100) -> PendingCall:
        return PendingCall("CMP-9", uuid.uuid4(), Kind.CAPTURE, "sandbox", amount, currency,
                           NOW - dt.timedelta(minutes=minutes))

    calls = (call(59), call(61), call(600, amount=250), call(90, "GBP", 70))
    sections = reconcile({}, DayMoves(), calls, now=NOW)
    pending = next(s for s in sections if s.section is Section.PENDING_CALLS)
    assert len(pending.findings) == 3
    assert pending.totals == {"EUR": 350, "GBP": 70}
    assert describe(pending.findings[0], "fr").startswith(
        "Encaissement de 1,00\u00a0€ chez sandbox")


def test_amounts_are_written_with_the_currency_s_own_decimals() -> None:
    assert decimal(123456, "EUR") == "1234.56"
    assert decimal(5, "EUR") == "0.05"
    assert decimal(-250, "EUR") == "-2.50"
    assert decimal(1500, "JPY") == "1500"
