"""Reading orders: one order as the API shows it, who may see it, its timeline, and a
customer's orders."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.errors import Conflict, NotFound
from comptoir.orders import fraud, lifecycle
from comptoir.orders.lifecycle import Status
from comptoir.orders.models import Order, OrderAllocation, OrderLine
from comptoir.orders.pricing import stored_breakdown
from comptoir.orders.schemas import (
    AddressOut,
    AllocationOut,
    CustomerOut,
    DeliveryOut,
    EventOut,
    FraudOut,
    FraudReasonOut,
    HoldOut,
    LineOut,
    OrderDetailOut,
    OrderOut,
    OrderSummary,
    TotalsOut,
    VatRateOut,
)
from comptoir.orders.timeline import order_timeline

__all__ = ["customer_orders", "customer_spending", "find_by_external_ref", "find_order",
           "fraud_out", "fraud_reasons", "lines_and_allocations", "order_detail",
           "order_events", "order_out", "render", "summary", "visible_to"]


def _not_found(number: str) -> NotFound:
    return NotFound(f"No order {number}.", code="order_not_found")


def order_out(order: Any, lines: Sequence[Any], allocations: Sequence[Any]) -> OrderOut:
    """The order as the API shows it; ``order``, lines and allocations are rows or namespaces."""
    by_line: dict[uuid.UUID, list[AllocationOut]] = {}
    for a in sorted(allocations, key=lambda a: a.location):
        if a.quantity > 0:
            by_line.setdefault(a.line_id, []).append(
                AllocationOut(location=a.location, quantity=a.quantity))
    address = AddressOut(**order.ship_to) if order.ship_to else None
    hold = HoldOut(reason=order.hold_reason, note=order.hold_note) if order.hold_reason else None
    return OrderOut(
        id=order.id,
        number=order.number,
        status=order.status,
        version=order.version,
        channel=order.channel,
        external_ref=order.external_ref,
        created_at=order.created_at,
        updated_at=order.updated_at,
        customer=CustomerOut(id=order.customer_id, email=order.customer_email,
                             name=order.customer_name, phone=order.customer_phone),
        delivery=DeliveryOut(method=order.delivery_method, address=address,
                             location=order.pickup_location),
        lines=[
            LineOut(id=line.id, sku=line.sku, name=line.name, quantity=line.quantity,
                    cancelled_quantity=line.cancelled_quantity, unit_price=line.unit_price,
                    vat_rate_bp=line.vat_rate_bp, net=line.net, tax=line.tax, total=line.total,
                    allocations=by_line.get(line.id, []))
            for line in sorted(lines, key=lambda line: line.position)
        ],
        totals=TotalsOut(subtotal=order.subtotal, shipping=order.shipping, tax=order.tax,
                         total=order.total, currency=order.currency,
                         prices_include_tax=order.prices_include_tax,
                         vat_rate_bp=order.vat_rate_bp),
        vat_breakdown=[VatRateOut(vat_rate_bp=row.vat_rate_bp, net=row.net, vat=row.vat,
                                  gross=row.gross) for row in stored_breakdown(order, lines)],
        note=order.note,
        language=order.language,
        hold=hold,
        allowed_actions=lifecycle.allowed_actions(order.status),
        tracking_token=order.tracking_token,
    )


async def visible_to(session: AsyncSession, order: Order, principal: Principal) -> bool:
    """Managers see every order; a channel its own; an associate their location's."""
    if principal.role in ("admin", "manager"):
        return True
    if principal.role == "channel":
        return order.channel == principal.channel
    if principal.location is None:
        return False
    if order.pickup_location == principal.location:
        return True
    return bool(await session.scalar(select(exists().where(
        OrderAllocation.order_id == order.id, OrderAllocation.location == principal.location))))


async def find_order(
    session: AsyncSession, number: str, principal: Principal, *, for_update: bool = False
) -> Order:
    """The order, if it exists and the caller may see it; ``order_not_found`` otherwise."""
    query = select(Order).where(Order.number == number)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = await session.scalar(query)
    if order is None or not await visible_to(session, order, principal):
        raise _not_found(number)
    return order


async def find_by_external_ref(session: AsyncSession, channel: str, external_ref: str) -> Order:
    order = await session.scalar(
        select(Order).where(Order.channel == channel, Order.external_ref == external_ref))
    if order is None:  # it was there a moment ago: only a concurrent delete explains this
        raise Conflict("The order with this external reference changed meanwhile; retry.",
                       code="retry")
    return order


async def lines_and_allocations(
    session: AsyncSession, order_id: uuid.UUID
) -> tuple[list[OrderLine], list[OrderAllocation]]:
    lines = list(await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)))
    allocations = list(await session.scalars(
        select(OrderAllocation).where(OrderAllocation.order_id == order_id)))
    return lines, allocations


async def render(session: AsyncSession, order: Order) -> OrderOut:
    lines, allocations = await lines_and_allocations(session, order.id)
    return order_out(order, lines, allocations)


async def order_events(session: AsyncSession, number: str) -> list[EventOut]:
    return await order_timeline(session, number)


def fraud_reasons(stored: Any, locale: fraud.Locale) -> list[FraudReasonOut]:
    """An order's stored fraud reasons, each in ``locale``'s words."""
    return [FraudReasonOut(code=reason.code.value, points=reason.points,
                           text=fraud.text(reason, locale))
            for reason in fraud.loaded(stored)]


def fraud_out(order: Order, locale: fraud.Locale) -> FraudOut | None:
    """The order's fraud screening at capture in ``locale``; None when not screened."""
    if order.fraud_score is None:
        return None
    return FraudOut(score=order.fraud_score, threshold=order.fraud_threshold,
                    reasons=fraud_reasons(order.fraud_reasons, locale))


async def order_detail(session: AsyncSession, number: str, principal: Principal, *,
                       locale: fraud.Locale = "fr") -> OrderDetailOut:
    """The order with its timeline; its fraud screening for managers, in ``locale``."""
    order = await find_order(session, number, principal)
    base = await render(session, order)
    screened = fraud_out(order, locale) if principal.role in ("admin", "manager") else None
    return OrderDetailOut(**msgspec.structs.asdict(base),
                          timeline=await order_events(session, number), fraud=screened)


async def customer_orders(
    session: AsyncSession, customer_id: uuid.UUID, limit: int = 50
) -> list[OrderSummary]:
    """A customer's most recent orders, newest first."""
    rows = await session.scalars(
        select(Order).where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit))
    return [summary(o) for o in rows]


def summary(o: Any) -> OrderSummary:
    """An order (a row of ``orders``, whole or of the list's columns) as lists show it."""
    return OrderSummary(number=o.number, status=o.status, channel=o.channel,
                        external_ref=o.external_ref, created_at=o.created_at,
                        customer_name=o.customer_name, customer_email=o.customer_email,
                        delivery_method=o.delivery_method, pickup_location=o.pickup_location,
                        total=o.total, currency=o.currency, version=o.version,
                        hold_reason=o.hold_reason)


async def customer_spending(
    session: AsyncSession, customer_id: uuid.UUID
) -> tuple[int, dict[str, int]]:
    """How many orders a customer placed, and what they spent per currency (not cancelled)."""
    count = await session.scalar(
        select(func.count()).select_from(Order).where(Order.customer_id == customer_id)) or 0
    rows = await session.execute(
        select(Order.currency, func.sum(Order.total))
        .where(Order.customer_id == customer_id, Order.status != Status.CANCELLED.value)
        .group_by(Order.currency))
    return int(count), {currency: int(total or 0) for currency, total in rows}
