"""VAT and totals: integer minor units, VAT per line rounded half up (orders/tax.py)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from comptoir.orders import tax
from comptoir.orders.tax import Amounts

prices = st.integers(min_value=0, max_value=10_000_000)
quantities = st.integers(min_value=0, max_value=1_000)
rates = st.sampled_from([0, 550, 1000, 1900, 2000, 2100, 2500]) | st.integers(0, 10_000)


def test_vat_included_in_a_price_is_rounded_half_up() -> None:
    # 1999 * 20/120 = 333.1666 → 333; 3 * 1000 * 20/120 = 500 exactly.
    assert tax.line_amounts(1999, 1, 2000, prices_include_tax=True) == Amounts(1666, 333, 1999)
    assert tax.line_amounts(1000, 3, 2000, prices_include_tax=True) == Amounts(2500, 500, 3000)
    # 9 * 20/120 = 1.5 → 2 (half up)
    assert tax.line_amounts(9, 1, 2000, prices_include_tax=True).tax == 2


def test_vat_on_top_of_a_price_is_rounded_half_up() -> None:
    assert tax.line_amounts(1999, 1, 2000, prices_include_tax=False) == Amounts(1999, 400, 2399)
    # 0.25 * 2 = 0.5 cent → 1
    assert tax.line_amounts(5, 1, 1000, prices_include_tax=False).tax == 1


def test_vat_is_computed_on_the_line_not_per_unit() -> None:
    # Per unit: 3 * round(0.2 * 1.2...)... per line: round(10 * 1 * 20/120) = round(1.67) = 2
    assert tax.line_amounts(1, 10, 2000, prices_include_tax=True).tax == 2


@given(prices, quantities, rates, st.booleans())
def test_net_plus_vat_is_the_total(price: int, quantity: int, rate: int, included: bool) -> None:
    amounts = tax.line_amounts(price, quantity, rate, prices_include_tax=included)
    assert amounts.net + amounts.tax == amounts.total
    assert min(amounts.net, amounts.tax, amounts.total) >= 0
    if included:
        assert amounts.total == price * quantity
    else:
        assert amounts.net == price * quantity


@given(prices, quantities, rates, st.booleans())
def test_vat_is_within_half_a_cent_of_the_exact_amount(
    price: int, quantity: int, rate: int, included: bool
) -> None:
    amounts = tax.line_amounts(price, quantity, rate, prices_include_tax=included)
    amount = price * quantity
    exact = (Fraction(amount * rate, 10_000 + rate) if included
             else Fraction(amount * rate, 10_000))
    assert -Fraction(1, 2) < amounts.tax - exact <= Fraction(1, 2)


@given(prices, prices, rates, st.booleans())
def test_a_dearer_line_never_carries_less_vat(a: int, b: int, rate: int, included: bool) -> None:
    low, high = sorted((a, b))
    assert (tax.line_amounts(low, 1, rate, prices_include_tax=included).tax
            <= tax.line_amounts(high, 1, rate, prices_include_tax=included).tax)


@given(st.lists(st.tuples(prices, quantities), max_size=20), prices, rates, st.booleans())
def test_order_totals_add_up(
    lines: list[tuple[int, int]], fee: int, rate: int, included: bool
) -> None:
    amounts = [tax.line_amounts(p, q, rate, prices_include_tax=included) for p, q in lines]
    shipping = tax.line_amounts(fee, 1, rate, prices_include_tax=included)
    totals = tax.order_totals(amounts, shipping)
    assert totals.subtotal + totals.shipping + totals.tax == totals.total
    assert totals.total == sum(a.total for a in amounts) + shipping.total
    assert totals.tax == sum(a.tax for a in amounts) + totals.shipping_tax


def test_shipping_fee_is_free_from_the_threshold() -> None:
    class Rate:
        def __init__(self, method: str, fee: int, free_from: int | None) -> None:
            self.method, self.fee, self.free_from = method, fee, free_from

    rates = [Rate("ship", 490, 5000), Rate("pickup", 0, None)]
    assert tax.shipping_fee(rates, "ship", 4999) == 490
    assert tax.shipping_fee(rates, "ship", 5000) == 0
    assert tax.shipping_fee(rates, "pickup", 10) == 0
    assert tax.shipping_fee([], "ship", 10) == 0  # no rate configured: no fee
    assert tax.shipping_fee([Rate("ship", 990, None)], "ship", 10**9) == 990
