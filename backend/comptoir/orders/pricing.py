"""An order's money: each line at its own VAT rate, shipping at the standard rate, the
totals and the breakdown per rate (pure; the rounding rule is ``tax``'s)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from comptoir.errors import InvalidInput
from comptoir.orders import tax

__all__ = [
    "TAX_CLASSES",
    "Priced",
    "Rated",
    "goods_amount",
    "line_amounts",
    "line_rate",
    "order_breakdown",
    "price_lines",
    "stored_breakdown",
]

# A SKU's tax class; each country gives each class its rate (config TaxRate). France's
# defaults: standard 20 %, reduced 10 %, super_reduced 5.5 % (books, most food), zero 0 %.
# France's 2.1 % (press, reimbursed medicines) has no class of its own: a retailer selling
# them would need a fifth class.
TAX_CLASSES = ("standard", "reduced", "super_reduced", "zero")


class Quantified(Protocol):
    @property
    def unit_price(self) -> int: ...
    @property
    def quantity(self) -> int: ...


class Rated(Quantified, Protocol):
    @property
    def vat_rate_bp(self) -> int: ...


class Priced(Rated, Protocol):
    @property
    def net(self) -> int: ...
    @property
    def tax(self) -> int: ...
    @property
    def total(self) -> int: ...


def line_amounts(unit_price: int, quantity: int, rate_bp: int, include_tax: bool) -> tax.Amounts:
    """One line priced on its own (the rule of a rate that holds only this line)."""
    return tax.line_amounts(unit_price, quantity, rate_bp, prices_include_tax=include_tax)


def line_rate(rates: Mapping[str, int], tax_class: str, sku: str, country: str) -> int:
    """The rate of a SKU of ``tax_class`` delivered to ``country`` (``rates``: the country's
    rate per class). A class the country has no rate for refuses the order (422
    ``vat_rate_missing``) rather than taxing it at another class's rate: an invoice stating a
    wrong rate can only be corrected by a credit note. The standard class always has one."""
    rate = rates.get(tax_class)
    if rate is None:
        raise InvalidInput(
            f"{sku} is in tax class {tax_class!r}, which has no VAT rate for {country}: "
            "configure it in the admin (Tax rates).",
            code="vat_rate_missing", sku=sku, tax_class=tax_class, country=country)
    return rate


def goods_amount(lines: Iterable[Quantified]) -> int:
    """What the goods cost in the channel's price basis (what ``free_from`` compares with)."""
    return sum(line.unit_price * line.quantity for line in lines)


def order_breakdown(
    lines: Sequence[Rated], shipping_fee: int, standard_rate_bp: int, include_tax: bool
) -> tax.Breakdown:
    """Lines (each at its ``vat_rate_bp``) and shipping (at ``standard_rate_bp``) priced per
    rate: ``breakdown.lines[i]`` is ``lines[i]``'s net, VAT and total."""
    return tax.vat_breakdown(
        [tax.Charge(line.unit_price * line.quantity, line.vat_rate_bp) for line in lines],
        shipping_fee, standard_rate_bp, prices_include_tax=include_tax)


def price_lines(
    lines: Sequence[Any], shipping_fee: int, standard_rate_bp: int, include_tax: bool
) -> tax.Breakdown:
    """Set ``net``, ``tax`` and ``total`` of each line (rows being edited) in place; the
    order's breakdown and totals."""
    breakdown = order_breakdown(lines, shipping_fee, standard_rate_bp, include_tax)
    for line, amounts in zip(lines, breakdown.lines, strict=True):
        line.net, line.tax, line.total = amounts.net, amounts.tax, amounts.total
    return breakdown


def stored_breakdown(order: Any, lines: Iterable[Priced]) -> tuple[tax.RateTotal, ...]:
    """The VAT breakdown of an order as stored (its lines' amounts and its shipping at
    ``order.vat_rate_bp``), highest rate first; it adds up to ``order.total``."""
    return tax.rate_totals([
        *((line.vat_rate_bp, tax.Amounts(line.net, line.tax, line.total)) for line in lines),
        (order.vat_rate_bp, tax.Amounts(order.shipping, order.shipping_tax,
                                        order.shipping + order.shipping_tax)),
    ])
