"""What a document states, in amounts (pure): lines from the order's lines, the VAT breakdown,
and what a credit note may still take."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comptoir.errors import Conflict, InvalidInput
from comptoir.invoicing import totals
from comptoir.invoicing.snapshot import StatedLine
from comptoir.orders.tax import line_amounts


@dataclass
class FakeOrder:
    vat_rate_bp: int = 2000
    prices_include_tax: bool = True
    shipping: int = 408
    shipping_tax: int = 82


@dataclass
class FakeLine:
    position: int
    sku: str
    quantity: int
    unit_price: int
    net: int
    tax: int
    total: int
    id: uuid.UUID
    vat_rate_bp: int
    name: str = "thing"


def _line(position: int, quantity: int, unit_price: int, order: FakeOrder,
          rate: int | None = None) -> FakeLine:
    rate = order.vat_rate_bp if rate is None else rate
    amounts = line_amounts(unit_price, quantity, rate,
                           prices_include_tax=order.prices_include_tax)
    return FakeLine(position=position, sku=f"SKU{position}", quantity=quantity,
                    unit_price=unit_price, net=amounts.net, tax=amounts.tax,
                    total=amounts.total, id=uuid.UUID(int=position), vat_rate_bp=rate)


@settings(deadline=None)  # a loaded CI machine is slow, not wrong
@given(st.lists(st.tuples(st.integers(1, 9), st.integers(1, 99_999), st.integers(0, 9),
                          st.sampled_from([2000, 1000, 550, 210, 0])),
                min_size=1, max_size=6),
       st.booleans(), st.sampled_from([2000, 1000, 550, 210, 0]), st.booleans())
def test_lines_rates_and_totals_always_add_up_in_integers(
    rows: list[tuple[int, int, int, int]], include_tax: bool, rate: int, with_shipping: bool,
) -> None:
    """Mixed baskets (each line at its own rate, shipping at the order's): the document's
    lines, its VAT breakdown and its totals agree, in integers."""
    order = FakeOrder(vat_rate_bp=rate, prices_include_tax=include_tax)
    lines = [_line(i + 1, quantity, price, order, line_rate)
             for i, (quantity, price, _, line_rate) in enumerate(rows)]
    wanted = {line.id: min(line.quantity, taken) for line, (_q, _p, taken, _r) in zip(
        lines, rows, strict=True)}
    stated = totals.invoice_lines(order, lines, wanted, with_shipping=with_shipping)
    net, vat, gross = totals.document_totals(stated)
    assert gross == net + vat
    rates = totals.rate_totals(stated)
    assert sum(r.gross for r in rates) == gross and sum(r.vat for r in rates) == vat
    assert {r.vat_rate_bp for r in rates} == {line.vat_rate_bp for line in stated}
    for line in stated:
        assert isinstance(line.net, int) and isinstance(line.vat, int)
        assert line.gross == line.net + line.vat and line.quantity > 0
    if all(wanted[line.id] == line.quantity for line in lines) and with_shipping:
        # Every unit and the shipping: exactly the order's total.
        assert gross == sum(line.total for line in lines) + order.shipping + order.shipping_tax


def _held(stated: tuple[StatedLine, ...]) -> list[totals.Held]:
    return [totals.Held(line=line, unit_price=line.unit_price_net, quantity=line.quantity,
                        net=line.net, vat=line.vat) for line in stated]


def test_a_credit_note_never_takes_more_than_the_invoice_holds() -> None:
    order = FakeOrder()
    lines = [_line(1, 3, 1200, order)]
    stated = totals.invoice_lines(order, lines, {lines[0].id: 3}, with_shipping=True)
    held = _held(stated)
    with pytest.raises(Conflict) as exceeded:
        totals.credit_lines(held, {1: 4}, shipping=False, whole=False, prices_include_tax=True)
    assert exceeded.value.code == "credit_exceeds_invoice"
    for asked in ({1: 0}, {1: -2}):
        with pytest.raises(InvalidInput) as bad:
            totals.credit_lines(held, asked, shipping=False, whole=False,
                                prices_include_tax=True)
        assert bad.value.code == "invalid_quantity"
    with pytest.raises(InvalidInput) as unknown:
        totals.credit_lines(held, {7: 1}, shipping=False, whole=False, prices_include_tax=True)
    assert unknown.value.code == "line_not_invoiced"
    whole = totals.credit_lines(held, {}, shipping=False, whole=True, prices_include_tax=True)
    assert totals.document_totals(line for _p, line in whole) == totals.document_totals(stated)
    spent = [totals.Held(line=h.line, unit_price=h.unit_price, quantity=0, net=0, vat=0)
             for h in held]
    with pytest.raises(Conflict) as nothing:
        totals.credit_lines(spent, {}, shipping=False, whole=True, prices_include_tax=True)
    assert nothing.value.code == "nothing_to_credit"
