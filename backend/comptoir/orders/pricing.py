"""An order's money: lines priced at the VAT rate, shipping, totals (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from comptoir.orders import tax

__all__ = ["Priced", "goods_amount", "line_amounts", "order_totals", "price_lines"]


class Quantified(Protocol):
    @property
    def unit_price(self) -> int: ...
    @property
    def quantity(self) -> int: ...


class Priced(Quantified, Protocol):
    @property
    def net(self) -> int: ...
    @property
    def tax(self) -> int: ...
    @property
    def total(self) -> int: ...


def line_amounts(unit_price: int, quantity: int, rate_bp: int, include_tax: bool) -> tax.Amounts:
    return tax.line_amounts(unit_price, quantity, rate_bp, prices_include_tax=include_tax)


def goods_amount(lines: Iterable[Quantified]) -> int:
    """What the goods cost in the channel's price basis (what ``free_from`` compares with)."""
    return sum(line.unit_price * line.quantity for line in lines)


def price_lines(lines: Sequence[Any], rate_bp: int, include_tax: bool) -> None:
    """Set ``net``, ``tax`` and ``total`` of each line (rows being edited) in place."""
    for line in lines:
        amounts = line_amounts(line.unit_price, line.quantity, rate_bp, include_tax)
        line.net, line.tax, line.total = amounts.net, amounts.tax, amounts.total


def order_totals(
    lines: Sequence[Priced], shipping_fee: int, rate_bp: int, include_tax: bool
) -> tax.Totals:
    shipping = line_amounts(shipping_fee, 1, rate_bp, include_tax)
    return tax.order_totals(
        [tax.Amounts(line.net, line.tax, line.total) for line in lines], shipping
    )
