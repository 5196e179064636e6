"""A customer seen from their orders: who they are, their recent orders and what they spent
(managers). It lives with the orders, which know customers; customers know no orders."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from litestar import Controller, get
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import MANAGERS, allow
from comptoir.customers import service as customers
from comptoir.orders import service
from comptoir.orders.schemas import OrderSummary

__all__ = ["CustomerDetailOut", "CustomerTotalsOut", "CustomersController"]

RECENT_ORDERS = 50


class CustomerTotalsOut(msgspec.Struct, frozen=True, kw_only=True):
    order_count: int
    # Minor units per currency, over orders that were not cancelled.
    spent: dict[str, int]


class CustomerDetailOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str
    name: str | None
    phone: str | None
    created_at: dt.datetime
    totals: CustomerTotalsOut
    orders: list[OrderSummary]  # the most recent first


class CustomersController(Controller):
    path = "/api/customers"
    tags = ["customers"]

    @get("/{customer_id:uuid}", opt=allow(MANAGERS), summary="A customer, their orders and totals")
    async def get_customer(
        self, customer_id: uuid.UUID, db_session: AsyncSession
    ) -> CustomerDetailOut:
        customer = await customers.get_customer(db_session, customer_id)
        count, spent = await service.customer_spending(db_session, customer.id)
        return CustomerDetailOut(
            id=customer.id, email=customer.email, name=customer.name, phone=customer.phone,
            created_at=customer.created_at,
            totals=CustomerTotalsOut(order_count=count, spent=spent),
            orders=await service.customer_orders(db_session, customer.id, RECENT_ORDERS),
        )
