"""What an invoice or a credit note states, in amounts: its lines from the order's lines, its
VAT breakdown per rate, and what a credit note may still take from an invoice (pure).

Rounding rule (orders/tax.py's, applied per document line): a line invoicing all of an
order line's units states that order line's own net, VAT and gross (the order and its
invoice agree to the cent); a line invoicing some units has them computed again for those
units with ``tax.line_amounts`` (VAT on the line amount, rounded half up). Shipping is one
line with the order's shipping net and VAT. A document's per-rate totals and its totals are
sums of its rounded lines: nothing is rounded twice, so lines, rates and totals always add up.

A credit note line crediting all that is left of an invoice line states exactly what is
left (so crediting an invoice whole gives back its totals to the cent); crediting some
units computes them like an invoice line, never above what is left.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from comptoir.errors import Conflict, InvalidInput
from comptoir.invoicing.snapshot import RateTotal, StatedLine
from comptoir.orders.tax import line_amounts, round_half_up

__all__ = [
    "Held",
    "OrderFacts",
    "OrderLineFacts",
    "credit_lines",
    "document_totals",
    "gesture_lines",
    "invoice_lines",
    "line_rate_bp",
    "rate_totals",
]


class OrderFacts(Protocol):
    """What totals read of an order (``orders.models.Order``)."""

    @property
    def vat_rate_bp(self) -> int: ...
    @property
    def prices_include_tax(self) -> bool: ...
    @property
    def shipping(self) -> int: ...
    @property
    def shipping_tax(self) -> int: ...


class OrderLineFacts(Protocol):
    """What totals read of an order line (``orders.models.OrderLine``)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def position(self) -> int: ...
    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price(self) -> int: ...
    @property
    def net(self) -> int: ...
    @property
    def tax(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def vat_rate_bp(self) -> int: ...


def line_rate_bp(line: OrderLineFacts, order: OrderFacts) -> int:
    """The VAT rate of an order line: its own, set at capture from its SKU's tax class in
    the delivery country (``order_lines.vat_rate_bp``); the order's is the shipping's."""
    del order
    return line.vat_rate_bp


def _stated(position: int, line: OrderLineFacts, quantity: int, rate: int, net: int,
            vat: int) -> StatedLine:
    return StatedLine(position=position, sku=line.sku, name=line.name, quantity=quantity,
                      unit_price_net=round_half_up(net, quantity), vat_rate_bp=rate, net=net,
                      vat=vat, gross=net + vat, order_line_id=str(line.id))


def invoice_lines(order: OrderFacts, lines: Sequence[OrderLineFacts],
                  quantities: Mapping[uuid.UUID, int], *, with_shipping: bool,
                  shipping_name: str = "Livraison") -> tuple[StatedLine, ...]:
    """The lines of an invoice for ``quantities`` of the order's lines (in the order's line
    order), then the shipping line when ``with_shipping`` and the order charged any."""
    stated: list[StatedLine] = []
    for line in sorted(lines, key=lambda line: line.position):
        quantity = quantities.get(line.id, 0)
        if quantity <= 0:
            continue
        rate = line_rate_bp(line, order)
        if quantity == line.quantity:
            net, vat = line.net, line.tax
        else:
            amounts = line_amounts(line.unit_price, quantity, rate,
                                   prices_include_tax=order.prices_include_tax)
            net, vat = amounts.net, amounts.tax
        stated.append(_stated(len(stated) + 1, line, quantity, rate, net, vat))
    if with_shipping and (order.shipping or order.shipping_tax):
        stated.append(StatedLine(
            position=len(stated) + 1, name=shipping_name, quantity=1,
            unit_price_net=order.shipping, vat_rate_bp=order.vat_rate_bp, net=order.shipping,
            vat=order.shipping_tax, gross=order.shipping + order.shipping_tax, shipping=True))
    return tuple(stated)


def rate_totals(lines: Iterable[StatedLine]) -> tuple[RateTotal, ...]:
    """The VAT breakdown: per rate, the sums of its lines; highest rate first."""
    sums: dict[int, tuple[int, int, int]] = {}
    for line in lines:
        net, vat, gross = sums.get(line.vat_rate_bp, (0, 0, 0))
        sums[line.vat_rate_bp] = (net + line.net, vat + line.vat, gross + line.gross)
    return tuple(RateTotal(vat_rate_bp=rate, net=net, vat=vat, gross=gross)
                 for rate, (net, vat, gross) in sorted(sums.items(), reverse=True))


def document_totals(lines: Iterable[StatedLine]) -> tuple[int, int, int]:
    """``(net, vat, gross)`` of a document: the sums of its lines."""
    rows = list(lines)
    return (sum(line.net for line in rows), sum(line.vat for line in rows),
            sum(line.gross for line in rows))


@dataclass(frozen=True, slots=True)
class Held:
    """An invoice line with what earlier credit notes left of it."""

    line: StatedLine  # as the invoice states it
    unit_price: int  # the order's unit price (in the order's tax basis)
    quantity: int  # units not credited yet
    net: int
    vat: int


def credit_lines(held: Sequence[Held], asked: Mapping[int, int], *, shipping: bool,
                 whole: bool, prices_include_tax: bool) -> tuple[tuple[int, StatedLine], ...]:
    """The lines of a credit note, each with the invoice line position it credits: all
    that is left (``whole``), or ``asked`` units per invoice line position and/or the
    shipping left. Refused: a position the invoice does not
    have (422 ``line_not_invoiced``), more than is left (409 ``credit_exceeds_invoice``),
    nothing left at all (409 ``nothing_to_credit``)."""
    by_position = {h.line.position: h for h in held}
    wanted: dict[int, int] = {}
    if whole:
        wanted = {h.line.position: h.quantity for h in held if h.quantity > 0}
    else:
        for position, quantity in asked.items():
            found = by_position.get(position)
            if found is None or found.line.shipping:
                raise InvalidInput(f"The invoice has no goods line {position}.",
                                   code="line_not_invoiced", position=position)
            if quantity <= 0:
                raise InvalidInput("Quantities to credit are 1 or more.",
                                   code="invalid_quantity", position=position)
            if quantity > found.quantity:
                raise Conflict(
                    f"Line {position} ({found.line.sku}): {quantity} units asked, but the "
                    f"invoice holds only {found.quantity} not yet credited.",
                    code="credit_exceeds_invoice", position=position,
                    remaining=found.quantity)
            wanted[position] = quantity
        if shipping:
            fee = next((h for h in held if h.line.shipping), None)
            if fee is None:
                raise InvalidInput("The invoice has no shipping to credit.",
                                   code="line_not_invoiced")
            if fee.quantity <= 0:
                raise Conflict("The invoice's shipping is already credited.",
                               code="credit_exceeds_invoice", remaining=0)
            wanted[fee.line.position] = 1
    if not wanted:
        raise Conflict("Everything on this invoice is already credited.",
                       code="nothing_to_credit")
    stated: list[tuple[int, StatedLine]] = []
    for position in sorted(wanted):
        h = by_position[position]
        quantity = wanted[position]
        if quantity == h.quantity:
            net, vat = h.net, h.vat
        else:
            amounts = line_amounts(h.unit_price, quantity, h.line.vat_rate_bp,
                                   prices_include_tax=prices_include_tax)
            net, vat = min(amounts.net, h.net), min(amounts.tax, h.vat)
        stated.append((position, StatedLine(
            position=len(stated) + 1, sku=h.line.sku, name=h.line.name, quantity=quantity,
            unit_price_net=round_half_up(net, quantity), vat_rate_bp=h.line.vat_rate_bp,
            net=net, vat=vat, gross=net + vat, shipping=h.line.shipping,
            order_line_id=h.line.order_line_id)))
    return tuple(stated)


def gesture_lines(rates: Sequence[RateTotal], amount: int, *, name: str) -> tuple[
    tuple[int, StatedLine], ...
]:
    """The lines of a credit note for an ``amount`` (tax included) given back on an invoice:
    a commercial gesture, split over the invoice's VAT rates in proportion to what each rate
    holds (largest remainders take the cents left), each line's VAT taken out of its share.
    Each line credits no invoice line (position 0): the goods lines stay as they were."""
    total = sum(rate.gross for rate in rates)
    if amount <= 0 or total <= 0:
        raise InvalidInput("A credit note for an amount needs an amount of 1 or more, on an "
                           "invoice with something on it.", code="payment_amount_invalid")
    shares = [(rate, amount * rate.gross // total, amount * rate.gross % total)
              for rate in rates]
    left = amount - sum(share for _rate, share, _rest in shares)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-shares[i][2], i))
    extra = {i: 1 for i in by_remainder[:left]}
    lines: list[tuple[int, StatedLine]] = []
    for i, (rate, share, _rest) in enumerate(shares):
        gross = share + extra.get(i, 0)
        if gross <= 0:
            continue
        net = round_half_up(gross * 10_000, 10_000 + rate.vat_rate_bp)
        lines.append((0, StatedLine(position=len(lines) + 1, name=name, quantity=1,
                                    unit_price_net=net, vat_rate_bp=rate.vat_rate_bp, net=net,
                                    vat=gross - net, gross=gross)))
    return tuple(lines)
