"""Customer rules: one customer per e-mail address (case-insensitive), kept up to date."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import Boolean, String, bindparam, false, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.customers.models import Customer
from comptoir.db.base import GUID, DateTimeUTC, new_id, utcnow
from comptoir.db.engine import is_postgres
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


# PostgreSQL: insert the customer if new, else read them, in one statement and without
# locking an existing row (a customer with many orders must not serialise their captures).
_PG_MATCH = text(
    """
    WITH created AS (
        INSERT INTO customers (id, email, email_lower, name, phone, created_at, updated_at)
        VALUES (:id, :email, :email_lower, :name, :phone, :now, :now)
        ON CONFLICT (email_lower) DO NOTHING
        RETURNING id, name, phone, true AS created
    )
    SELECT id, name, phone, created FROM created
    UNION ALL
    SELECT id, name, phone, false FROM customers WHERE email_lower = :email_lower
    """
).bindparams(
    bindparam("id", type_=GUID()), bindparam("now", type_=DateTimeUTC(timezone=True))
).columns(id=GUID(), name=String(), phone=String(), created=Boolean())


_SQLITE_UPSERT = text(
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

    Usually one statement; two when the name or phone changed.
    """
    email = check_email(email)
    email_lower = email.lower()
    now = utcnow()
    if is_postgres(session):
        params = {"id": new_id(), "email": email, "email_lower": email_lower, "name": name,
                  "phone": phone, "now": now}
        row = (await session.execute(_PG_MATCH, params)).first()
        if row is None:
            # A concurrent capture created this customer after our statement's snapshot was
            # taken: it has committed by now (we waited for it), so a new statement sees it.
            row = (await session.execute(
                select(Customer.id, Customer.name, Customer.phone, false())
                .where(Customer.email_lower == email_lower)
            )).first()
        assert row is not None
        customer_id, old_name, old_phone, created = row
        if not created and ((name and name != old_name) or (phone and phone != old_phone)):
            await session.execute(
                update(Customer)
                .where(Customer.id == customer_id)
                .values(name=name or old_name, phone=phone or old_phone, updated_at=now)
            )
        return CustomerRef(customer_id, email, name or old_name, phone or old_phone)
    # SQLite serialises writers: an upsert that always updates costs no concurrency.
    row = (await session.execute(_SQLITE_UPSERT, {
        "id": new_id(), "email": email, "email_lower": email_lower, "name": name,
        "phone": phone, "now": now})).one()
    return CustomerRef(row[0], email, row[1], row[2])


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer {customer_id}.", code="customer_not_found")
    return customer
