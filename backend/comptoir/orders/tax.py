"""VAT and order totals in integer minor units. Pure, no I/O.

Rounding rule (the one an invoice can be checked against):

* VAT is computed **per line**, on the line amount (unit price * quantity), never per unit,
  and rounded **half up to the minor unit** (0.5 cent → 1 cent), in integer arithmetic.
* Tax-inclusive prices (most B2C channels): the line's total is unit price * quantity;
  its VAT is ``total * rate / (1 + rate)`` rounded; its net is ``total - VAT``.
* Tax-exclusive prices (B2B): the line's net is unit price * quantity; its VAT is
  ``net * rate`` rounded; its total is ``net + VAT``.
* Shipping is one more line, priced like the channel's other prices.
* The order's VAT is the sum of the rounded line VATs, so the lines always add up to it:
  ``subtotal + shipping + tax == total``, where subtotal and shipping are net amounts.

Rates are basis points (2000 = 20 %).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "Amounts",
    "Rate",
    "Totals",
    "line_amounts",
    "order_totals",
    "round_half_up",
    "shipping_fee",
]

BP = 10_000  # basis points in 100 %


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, for a non-negative numerator."""
    if denominator <= 0 or numerator < 0:
        raise ValueError("round_half_up needs a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True, slots=True)
class Amounts:
    """One line's money: ``net + tax == total``."""

    net: int
    tax: int
    total: int


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: int  # goods, net of VAT
    shipping: int  # shipping, net of VAT
    shipping_tax: int  # the VAT on shipping (part of ``tax``)
    tax: int  # all VAT: goods and shipping
    total: int  # what the customer pays


def line_amounts(
    unit_price: int, quantity: int, rate_bp: int, *, prices_include_tax: bool
) -> Amounts:
    """Net, VAT and total of ``quantity`` units at ``unit_price`` (minor units)."""
    if unit_price < 0 or quantity < 0 or rate_bp < 0:
        raise ValueError("prices, quantities and rates are never negative")
    amount = unit_price * quantity
    if prices_include_tax:
        tax = round_half_up(amount * rate_bp, BP + rate_bp)
        return Amounts(net=amount - tax, tax=tax, total=amount)
    tax = round_half_up(amount * rate_bp, BP)
    return Amounts(net=amount, tax=tax, total=amount + tax)


class Rate(Protocol):
    """A channel's shipping rate for one delivery method (config.schemas.ShippingRateOut)."""

    @property
    def method(self) -> str: ...
    @property
    def fee(self) -> int: ...
    @property
    def free_from(self) -> int | None: ...


def shipping_fee(rates: Iterable[Rate], method: str, goods_amount: int) -> int:
    """The fee for ``method``: 0 when none is configured or when goods reach ``free_from``.

    ``goods_amount`` is in the channel's own price basis (tax included or not), the same
    basis as ``fee`` and ``free_from``.
    """
    for rate in rates:
        if rate.method == method:
            if rate.free_from is not None and goods_amount >= rate.free_from:
                return 0
            return rate.fee
    return 0


def order_totals(lines: Sequence[Amounts], shipping: Amounts) -> Totals:
    """The order's totals from its rounded lines: nothing is rounded twice."""
    subtotal = sum(line.net for line in lines)
    tax = sum(line.tax for line in lines) + shipping.tax
    return Totals(
        subtotal=subtotal,
        shipping=shipping.net,
        shipping_tax=shipping.tax,
        tax=tax,
        total=subtotal + shipping.net + tax,
    )
