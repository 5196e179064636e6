"""VAT per rate (orders/tax.py ``vat_breakdown``): lines, rows per rate and the order's totals
agree to the cent, in ints, whatever the basket."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comptoir.orders import tax
from comptoir.orders.tax import Amounts, Charge, RateTotal

RATES = [2000, 1000, 550, 210, 0, 1900, 700, 2100]
charges = st.builds(
    lambda price, quantity, rate: Charge(price * quantity, rate),
    st.integers(0, 500_000), st.integers(0, 50), st.sampled_from(RATES))
baskets = st.lists(charges, max_size=25)
fees = st.integers(0, 5_000) | st.just(0)
standard = st.sampled_from([2000, 1900, 2100])


def _ints(*values: object) -> bool:
    return all(type(value) is int for value in values)


@given(baskets, fees, standard, st.booleans())
def test_lines_rates_and_total_add_up_to_the_cent_in_ints(
    basket: list[Charge], fee: int, standard_rate: int, included: bool
) -> None:
    priced = tax.vat_breakdown(basket, fee, standard_rate, prices_include_tax=included)
    assert len(priced.lines) == len(basket)
    everything = [*priced.lines, priced.shipping]
    for amounts in everything:
        assert _ints(amounts.net, amounts.tax, amounts.total)
        assert amounts.net + amounts.tax == amounts.total
        assert amounts.net >= 0 and amounts.tax >= 0
    for row in priced.rates:
        assert _ints(row.vat_rate_bp, row.net, row.vat, row.gross)
        assert row.net + row.vat == row.gross
        # The row is the sum of its lines (shipping in the standard rate's row).
        members = [a for a, c in zip(everything, [*basket, Charge(fee, standard_rate)],
                                     strict=True) if c.vat_rate_bp == row.vat_rate_bp]
        assert row.net == sum(a.net for a in members)
        assert row.vat == sum(a.tax for a in members)
        assert row.gross == sum(a.total for a in members)
    totals = priced.totals
    assert _ints(totals.subtotal, totals.shipping, totals.shipping_tax, totals.tax, totals.total)
    assert totals.subtotal + totals.shipping + totals.tax == totals.total
    assert sum(row.gross for row in priced.rates) == totals.total
    assert sum(row.vat for row in priced.rates) == totals.tax
    assert sum(row.net for row in priced.rates) == totals.subtotal + totals.shipping
    assert sum(a.total for a in everything) == totals.total
    assert (totals.shipping, totals.shipping_tax) == (priced.shipping.net, priced.shipping.tax)
    # One row per rate that charges something, highest rate first.
    charged = {c.vat_rate_bp for c in [*basket, Charge(fee, standard_rate)] if c.amount}
    assert [row.vat_rate_bp for row in priced.rates] == sorted(charged, reverse=True)


@given(baskets, fees, standard, st.booleans())
def test_each_rate_is_taxed_once_on_its_sum_rounded_half_up(
    basket: list[Charge], fee: int, standard_rate: int, included: bool
) -> None:
    priced = tax.vat_breakdown(basket, fee, standard_rate, prices_include_tax=included)
    for row in priced.rates:
        rate = Fraction(row.vat_rate_bp, 10_000)
        exact = row.gross * rate / (1 + rate) if included else row.net * rate
        assert abs(row.vat - exact) <= Fraction(1, 2)
        assert row.vat - exact != Fraction(-1, 2)  # a half goes up


@given(baskets, fees, standard, st.booleans())
def test_a_line_carries_its_share_of_its_rate_within_a_cent(
    basket: list[Charge], fee: int, standard_rate: int, included: bool
) -> None:
    priced = tax.vat_breakdown(basket, fee, standard_rate, prices_include_tax=included)
    rows = {row.vat_rate_bp: row for row in priced.rates}
    for charge, amounts in zip(basket, priced.lines, strict=True):
        base = charge.amount
        assert (amounts.total if included else amounts.net) == base
        row = rows.get(charge.vat_rate_bp)
        if row is None or base == 0:
            assert amounts.tax == 0
            continue
        whole = row.gross if included else row.net
        assert abs(amounts.tax - Fraction(row.vat * base, whole)) < 1


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_apportion_gives_back_exactly_the_amount(total: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        assert tax.apportion(0, weights) == [0] * len(weights)
        return
    shares = tax.apportion(total, weights)
    assert sum(shares) == total
    assert all(type(s) is int for s in shares)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - Fraction(total * weight, sum(weights))) < 1
        if weight == 0:
            assert share == 0


def test_a_mixed_basket_of_20_and_5_5_percent_with_shipping_to_the_cent() -> None:
    """Two T-shirts at 25.00 and a marinière at 49.00 (20 %), a book at 29.00 and three jars
    of jam at 7.50 (5.5 %), shipping 4.90 (20 %): prices include VAT."""
    basket = [Charge(2 * 2500, 2000), Charge(4900, 2000), Charge(2900, 550),
              Charge(3 * 750, 550)]
    priced = tax.vat_breakdown(basket, 490, 2000, prices_include_tax=True)
    # 20 %: 103.90 gross, VAT round(103.90 / 6) = 17.32; 5.5 %: 51.50 gross, VAT
    # round(51.50 * 5.5 / 105.5) = round(2.6848) = 2.68.
    assert priced.rates == (RateTotal(vat_rate_bp=2000, net=8658, vat=1732, gross=10390),
                            RateTotal(vat_rate_bp=550, net=4882, vat=268, gross=5150))
    # Each rate's VAT over its lines by largest remainder: 833 + 817 + 82 = 1732, 151 + 117.
    assert priced.lines == (Amounts(4167, 833, 5000), Amounts(4083, 817, 4900),
                            Amounts(2749, 151, 2900), Amounts(2133, 117, 2250))
    assert priced.shipping == Amounts(408, 82, 490)
    assert priced.totals == tax.Totals(subtotal=13132, shipping=408, shipping_tax=82,
                                       tax=2000, total=15540)


def test_prices_without_vat_take_it_on_top_per_rate() -> None:
    # Three lines at 0.05 and 10 %: per line 0.005 each would round to 3 cents; on the
    # rate's sum, 0.15 * 10 % = 0.015 → 2 cents, shared 1 + 1 + 0.
    priced = tax.vat_breakdown([Charge(5, 1000)] * 3, 0, 2000, prices_include_tax=False)
    assert priced.rates == (RateTotal(vat_rate_bp=1000, net=15, vat=2, gross=17),)
    assert [a.tax for a in priced.lines] == [1, 1, 0]
    assert priced.totals.total == 17


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="never negative"):
        tax.vat_breakdown([Charge(-1, 2000)], 0, 2000, prices_include_tax=True)
