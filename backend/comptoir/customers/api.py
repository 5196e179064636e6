"""Customer endpoints: one customer with their orders and totals (managers)."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import MANAGERS, allow
from comptoir.customers import service
from comptoir.customers.schemas import CustomerDetailOut, CustomerTotalsOut
from comptoir.orders import reading as orders

__all__ = ["CustomersController"]

RECENT_ORDERS = 50


class CustomersController(Controller):
    path = "/api/customers"
    tags = ["customers"]

    @get("/{customer_id:uuid}", opt=allow(MANAGERS), summary="A customer, their orders and totals")
    async def get_customer(
        self, customer_id: uuid.UUID, db_session: AsyncSession
    ) -> CustomerDetailOut:
        customer = await service.get_customer(db_session, customer_id)
        count, spent = await orders.customer_spending(db_session, customer.id)
        return CustomerDetailOut(
            id=customer.id, email=customer.email, name=customer.name, phone=customer.phone,
            created_at=customer.created_at,
            totals=CustomerTotalsOut(order_count=count, spent=spent),
            orders=await orders.customer_orders(db_session, customer.id, RECENT_ORDERS),
        )
