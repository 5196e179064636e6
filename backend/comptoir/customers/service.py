"""Customer rules: one customer per e-mail address (case-insensitive), kept up to date."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.customers.models import Customer
from comptoir.db.base import GUID, DateTimeUTC, new_id, utcnow
from comptoir.errors import InvalidInput, NotFound

__all__ = ["CustomerRef", "check_email", "get_customer", "match_or_create"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CustomerRef:
    """The customer an order belongs to, as matched at capture."""

    __slots__ = ("email", "id", "name", "phone")

    def __init__(self, id: uuid.UUID, email: str, name: str | None, phone: str | None) -> None:
        self.id = id
        self.email = email
        self.name = name
        self.phone = phone


def check_email(email: str) -> str:
    """The address trimmed, or a refusal when it cannot be an e-mail address."""
    email = email.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(f"'{email}' is not an e-mail address.", code="invalid_email")
    return email


_UPSERT = text(
    """
    INSERT INTO customers (id, email, email_lower, name, phone, created_at, updated_at)
    VALUES (:id, :email, :email_lower, :name, :phone, :now, :now)
    ON CONFLICT (email_lower) DO UPDATE SET
        name = coalesce(excluded.name, customers.name),
        phone = coalesce(excluded.phone, customers.phone),
        updated_at = excluded.updated_at
    RETURNING id, name, phone
    """
).bindparams(
    bindparam("id", type_=GUID()), bindparam("now", type_=DateTimeUTC(timezone=True))
).columns(id=GUID(), name=String(), phone=String())


async def match_or_create(
    session: AsyncSession, *, email: str, name: str | None, phone: str | None
) -> CustomerRef:
    """The customer with this e-mail (any case), created if new; name and phone updated if given.

    One statement. It locks an existing customer's row until the transaction ends: order
    capture on PostgreSQL, where a customer's orders must not wait for each other, matches
    its customer inside its own statement instead (orders/capture_pg.py).
    """
    email = check_email(email)
    row = (await session.execute(_UPSERT, {
        "id": new_id(), "email": email, "email_lower": email.lower(), "name": name,
        "phone": phone, "now": utcnow()})).one()
    return CustomerRef(row[0], email, row[1], row[2])


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer {customer_id}.", code="customer_not_found")
    return customer
