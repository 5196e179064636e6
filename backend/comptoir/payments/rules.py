"""The rules of an order's money, pure: what may be captured, voided or refunded, what the
goods that left are worth, and the payment status the order shows.

An order's transactions are a ledger (``Ledger``). Amounts still ``pending`` count against
what they draw on (a capture being made cannot be captured again, nor voided), and only
``succeeded`` ones count as money moved:

- a capture draws on a succeeded authorization that has no void: captured ≤ authorized;
- a void releases what is left of an authorization, and nothing is captured on it after;
- a refund gives back part of a succeeded capture: refunded ≤ captured;
- the balance is what the customer has paid: succeeded captures - succeeded refunds.

Money follows the goods (``goods_value``): what left is worth its lines' share of their
totals (the last unit of a line makes the line's total exact) and the shipping once
anything left; once everything left, the order's total.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from comptoir.errors import Conflict, InvalidInput

__all__ = [
    "Kind",
    "Ledger",
    "LineValue",
    "PaymentStatus",
    "Tx",
    "TxStatus",
    "goods_value",
]


class Kind(StrEnum):
    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class TxStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    AUTHORIZED = "authorized"
    PARTIALLY_CAPTURED = "partially_captured"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    OVERPAID = "overpaid"


@dataclass(frozen=True, slots=True)
class Tx:
    """A transaction as the rules see it."""

    id: uuid.UUID
    kind: Kind
    amount: int
    status: TxStatus
    parent_id: uuid.UUID | None = None


def check_amount(amount: int) -> None:
    if amount <= 0:
        raise InvalidInput("An amount is a whole number of cents, 1 or more.",
                           code="payment_amount_invalid", amount=amount)


@dataclass(frozen=True, slots=True)
class Ledger:
    """An order's transactions, oldest first."""

    txs: tuple[Tx, ...]

    @classmethod
    def of(cls, txs: Iterable[Tx]) -> Ledger:
        return cls(tuple(txs))

    def _sum(self, kind: Kind, status: TxStatus = TxStatus.SUCCEEDED) -> int:
        return sum(t.amount for t in self.txs if t.kind is kind and t.status is status)

    def _drawn(self, parent: uuid.UUID, *kinds: Kind) -> int:
        """What transactions not failed take from ``parent``."""
        return sum(t.amount for t in self.txs if t.parent_id == parent and t.kind in kinds
                   and t.status is not TxStatus.FAILED)

    def get(self, tx_id: uuid.UUID) -> Tx | None:
        return next((t for t in self.txs if t.id == tx_id), None)

    @property
    def authorized(self) -> int:
        return self._sum(Kind.AUTHORIZATION)

    @property
    def captured(self) -> int:
        return self._sum(Kind.CAPTURE)

    @property
    def refunded(self) -> int:
        return self._sum(Kind.REFUND)

    @property
    def voided(self) -> int:
        return self._sum(Kind.VOID)

    @property
    def balance(self) -> int:
        """What the customer has paid and not been given back."""
        return self.captured - self.refunded

    @property
    def capture_asked(self) -> int:
        """Captured or being captured, less refunded or being refunded: what the goods
        already brought in (or will), so that nothing is asked twice for them."""
        live = [t for t in self.txs if t.status is not TxStatus.FAILED]
        return (sum(t.amount for t in live if t.kind is Kind.CAPTURE)
                - sum(t.amount for t in live if t.kind is Kind.REFUND))

    def is_voided(self, authorization: uuid.UUID) -> bool:
        return self._drawn(authorization, Kind.VOID) > 0

    def open_on(self, authorization: Tx) -> int:
        """What can still be captured on an authorization (0 unless it succeeded and has
        no void)."""
        if (authorization.kind is not Kind.AUTHORIZATION
                or authorization.status is not TxStatus.SUCCEEDED
                or self.is_voided(authorization.id)):
            return 0
        return authorization.amount - self._drawn(authorization.id, Kind.CAPTURE)

    def capturing(self, authorization: uuid.UUID) -> bool:
        """A capture on it is still waiting for the provider: its rest is released only
        after (a provider may release the rest at a final capture, or refuse a capture on a
        cancelled authorization)."""
        return any(t.parent_id == authorization and t.kind is Kind.CAPTURE
                   and t.status is TxStatus.PENDING for t in self.txs)

    @property
    def authorizations(self) -> list[Tx]:
        return [t for t in self.txs if t.kind is Kind.AUTHORIZATION]

    @property
    def capturable(self) -> int:
        return sum(self.open_on(t) for t in self.authorizations)

    @property
    def awaiting_authorization(self) -> int:
        return self._sum(Kind.AUTHORIZATION, TxStatus.PENDING)

    def refundable_on(self, capture: Tx) -> int:
        if capture.kind is not Kind.CAPTURE or capture.status is not TxStatus.SUCCEEDED:
            return 0
        return capture.amount - self._drawn(capture.id, Kind.REFUND)

    @property
    def refundable(self) -> int:
        return sum(self.refundable_on(t) for t in self.txs if t.kind is Kind.CAPTURE)

    def status(self, order_total: int) -> PaymentStatus:
        """The payment status the order shows, against what it costs now."""
        balance = self.balance
        if balance > order_total:
            return PaymentStatus.OVERPAID
        if self.refunded:
            return PaymentStatus.REFUNDED if balance == 0 else PaymentStatus.PARTIALLY_REFUNDED
        if self.captured:
            return (PaymentStatus.PAID if balance >= order_total
                    else PaymentStatus.PARTIALLY_CAPTURED)
        if self.capturable:
            return PaymentStatus.AUTHORIZED
        return PaymentStatus.UNPAID

    # --- what a staff action or a step may do ------------------------------------------------

    def plan_capture(self, amount: int, authorization: uuid.UUID | None = None) -> list[
        tuple[Tx, int]
    ]:
        """Where ``amount`` is captured from: the named authorization, or the open ones,
        oldest first. Refused when it is more than they leave."""
        check_amount(amount)
        if authorization is not None:
            named = self.get(authorization)
            if named is None or named.kind is not Kind.AUTHORIZATION:
                raise InvalidInput("Captures are made on an authorization; this transaction "
                                   "is not one.", code="not_an_authorization")
            self._check_usable(named)
            candidates = [named]
        else:
            candidates = self.authorizations
        plan: list[tuple[Tx, int]] = []
        left = amount
        for auth in candidates:
            take = min(left, self.open_on(auth))
            if take > 0:
                plan.append((auth, take))
                left -= take
        if left:
            raise Conflict(f"Only {amount - left} can still be captured, not {amount}.",
                           code="capture_exceeds_authorized", capturable=amount - left)
        return plan

    def _check_usable(self, authorization: Tx) -> None:
        if self.is_voided(authorization.id):
            raise Conflict("This authorization was voided: nothing more can be captured on it.",
                           code="authorization_voided")
        if authorization.status is not TxStatus.SUCCEEDED:
            raise Conflict(f"This authorization is {authorization.status.value}: only a "
                           "succeeded one can be captured or voided.",
                           code="authorization_not_usable", status=authorization.status.value)

    def plan_void(self, authorization: uuid.UUID) -> tuple[Tx, int]:
        """The authorization and what its void releases: all it has left."""
        named = self.get(authorization)
        if named is None or named.kind is not Kind.AUTHORIZATION:
            raise InvalidInput("Only an authorization can be voided.",
                               code="not_an_authorization")
        self._check_usable(named)
        left = self.open_on(named)
        if left <= 0:
            raise Conflict("Everything this authorization held is captured or being captured: "
                           "there is nothing to void.", code="nothing_to_void")
        return named, left

    def plan_refund(self, amount: int, capture: uuid.UUID | None = None) -> list[
        tuple[Tx, int]
    ]:
        """Which captures ``amount`` is given back from: the named one, or the newest
        first. Refused when it is more than they hold."""
        check_amount(amount)
        if capture is not None:
            named = self.get(capture)
            if named is None or named.kind is not Kind.CAPTURE:
                raise InvalidInput("A refund gives back a capture; this transaction is not one.",
                                   code="not_a_capture")
            candidates = [named]
        else:
            candidates = [t for t in reversed(self.txs) if t.kind is Kind.CAPTURE]
        plan: list[tuple[Tx, int]] = []
        left = amount
        for cap in candidates:
            take = min(left, self.refundable_on(cap))
            if take > 0:
                plan.append((cap, take))
                left -= take
        if left:
            raise Conflict(f"Only {amount - left} can be refunded (what was captured and not "
                           f"refunded yet), not {amount}.", code="refund_exceeds_captured",
                           refundable=amount - left)
        return plan


@dataclass(frozen=True, slots=True)
class LineValue:
    """An order line as money follows it: its total now (tax included), the units still
    ordered, and how many of them left (shipped or handed over)."""

    total: int
    quantity: int
    left: int


def goods_value(lines: Sequence[LineValue], shipping: int, *, order_total: int,
                everything_left: bool) -> int:
    """What the goods that left are worth: each line's share of its total, the shipping
    once anything left; the order's total once everything left (exact to the cent)."""
    if everything_left:
        return order_total
    value = sum(line.total * min(line.left, line.quantity) // line.quantity
                for line in lines if line.quantity > 0)
    if any(line.left > 0 for line in lines):
        value += shipping
    return min(value, order_total)
