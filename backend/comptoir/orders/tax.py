"""VAT and order totals in integer minor units, per VAT rate. Pure, no I/O.

THE rounding rule (``vat_breakdown``; the one an invoice is checked against, EN 16931's):

* Each line has its own rate (its SKU's tax class in the delivery country); shipping is
  taxed at the country's standard rate. A line's *amount* is unit price * quantity, in the
  channel's price basis; shipping's amount is its fee, in the same basis.
* The lines (shipping included) are grouped by rate. **VAT is computed once per rate, on
  the sum of that rate's amounts**, rounded **half up to the minor unit** in integer
  arithmetic:
  - prices include VAT (B2C): ``gross = sum``, ``vat = round_half_up(gross * r / (10000 + r))``,
    ``net = gross - vat``;
  - prices exclude VAT (B2B): ``net = sum``, ``vat = round_half_up(net * r / 10000)``,
    ``gross = net + vat``.
* The rate's VAT is then **distributed over its lines by largest remainder**
  (``apportion``): each line gets ``floor(vat * amount / sum)``, and the cents left go one
  each to the lines with the largest remainders (ties: the earlier line, shipping last).
  A line's net or gross is its amount minus or plus its share.
* So, to the cent and with nothing rounded twice: the lines of a rate add up to its row,
  the rows add up to the order (``subtotal + shipping + tax == total == sum of rows'
  gross``), every amount an ``int``.

``line_amounts`` (one line on its own) is the same rule for a rate holding a single line.
Rates are basis points (2000 = 20 %).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "Amounts",
    "Breakdown",
    "Charge",
    "Rate",
    "RateTotal",
    "Totals",
    "apportion",
    "line_amounts",
    "order_totals",
    "rate_totals",
    "round_half_up",
    "shipping_fee",
    "vat_breakdown",
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


# --- per rate --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Charge:
    """What one line charges before VAT is worked out: unit price * quantity, in the
    channel's price basis (VAT included or not), and the line's rate."""

    amount: int
    vat_rate_bp: int


@dataclass(frozen=True, slots=True)
class RateTotal:
    """One row of the VAT breakdown: the sums over the lines (and shipping) at one rate."""

    vat_rate_bp: int
    net: int
    vat: int
    gross: int


@dataclass(frozen=True, slots=True)
class Breakdown:
    """An order priced per rate: each line's amounts (in the order of the charges given),
    shipping's, the rows per rate (highest rate first) and the order's totals."""

    lines: tuple[Amounts, ...]
    shipping: Amounts
    rates: tuple[RateTotal, ...]
    totals: Totals


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder): ints that add up
    to ``total`` exactly; a zero weight gets 0; ties go to the earlier weight."""
    whole = sum(weights)
    if whole == 0:
        if total:
            raise ValueError("cannot share an amount over nothing")
        return [0] * len(weights)
    shares = [total * weight // whole for weight in weights]
    left = total - sum(shares)
    by_remainder = sorted(range(len(weights)),
                          key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def _rate_vat(amount: int, rate_bp: int, prices_include_tax: bool) -> int:
    if prices_include_tax:
        return round_half_up(amount * rate_bp, BP + rate_bp)
    return round_half_up(amount * rate_bp, BP)


def vat_breakdown(
    charges: Sequence[Charge], shipping: int, standard_rate_bp: int, *,
    prices_include_tax: bool,
) -> Breakdown:
    """Price every line and the shipping per rate, by the module's rounding rule.

    ``shipping`` is the fee in the channel's price basis, taxed at ``standard_rate_bp``.
    A rate whose lines add up to nothing has no row."""
    items = [*charges, Charge(shipping, standard_rate_bp)]
    if any(item.amount < 0 or item.vat_rate_bp < 0 for item in items):
        raise ValueError("prices, quantities and rates are never negative")
    by_rate: dict[int, list[int]] = {}
    for index, item in enumerate(items):
        by_rate.setdefault(item.vat_rate_bp, []).append(index)
    amounts: list[Amounts] = [Amounts(0, 0, 0)] * len(items)
    rows: list[RateTotal] = []
    for rate_bp in sorted(by_rate, reverse=True):
        members = by_rate[rate_bp]
        weights = [items[i].amount for i in members]
        base = sum(weights)
        vat = _rate_vat(base, rate_bp, prices_include_tax)
        for index, weight, share in zip(members, weights, apportion(vat, weights), strict=True):
            amounts[index] = (Amounts(net=weight - share, tax=share, total=weight)
                              if prices_include_tax else
                              Amounts(net=weight, tax=share, total=weight + share))
        if base:
            net = base - vat if prices_include_tax else base
            rows.append(RateTotal(vat_rate_bp=rate_bp, net=net, vat=vat, gross=net + vat))
    lines, shipped = tuple(amounts[:-1]), amounts[-1]
    return Breakdown(lines=lines, shipping=shipped, rates=tuple(rows),
                     totals=order_totals(lines, shipped))


def rate_totals(taxed: Iterable[tuple[int, Amounts]]) -> tuple[RateTotal, ...]:
    """The breakdown's rows of amounts already priced, as ``(rate, amounts)`` pairs (an
    order's stored lines and shipping): highest rate first, empty rates left out."""
    sums: dict[int, tuple[int, int, int]] = {}
    for rate_bp, amounts in taxed:
        net, vat, gross = sums.get(rate_bp, (0, 0, 0))
        sums[rate_bp] = (net + amounts.net, vat + amounts.tax, gross + amounts.total)
    return tuple(RateTotal(vat_rate_bp=rate_bp, net=net, vat=vat, gross=gross)
                 for rate_bp, (net, vat, gross) in sorted(sums.items(), reverse=True)
                 if gross)
