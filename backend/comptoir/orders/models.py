"""Order tables: orders, their lines, where each line is reserved, numbers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import GUID, Base, DateTimeUTC, JsonB, UUIDPrimaryKey, utcnow

__all__ = [
    "Order",
    "OrderAllocation",
    "OrderLine",
    "OrderNumberCounter",
]

Money = BigInteger  # minor units; an order of a few hundred thousand euros overflows 32 bits


class Order(UUIDPrimaryKey, Base):
    """One order. Amounts are minor units of ``currency``; ``version`` counts its changes."""

    __tablename__ = "orders"

    id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(24), unique=True)
    channel: Mapped[str] = mapped_column(String(40))
    external_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    # The state an order on hold goes back to when it is released.
    held_from: Mapped[str | None] = mapped_column(String(24), nullable=True)
    hold_reason: Mapped[str | None] = mapped_column(String(24), nullable=True)
    hold_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    currency: Mapped[str] = mapped_column(String(3))
    prices_include_tax: Mapped[bool] = mapped_column(Boolean)
    # The delivery country's standard rate: shipping's. Each line has its own.
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("customers.id"), nullable=True
    )
    # The customer as they were at capture: the order keeps them even if the customer changes.
    # The e-mail is lower-cased (addresses match case-insensitively), so a prefix search on
    # it can use an index.
    customer_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    customer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    customer_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    delivery_method: Mapped[str] = mapped_column(String(8))
    pickup_location: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # What the customer shows at the counter (pickup orders): 8 characters, no look-alikes.
    pickup_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    ship_to: Mapped[dict[str, Any] | None] = mapped_column(JsonB, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The customer's language (fr | en) for what is written to them (invoices); None: not said.
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)
    subtotal: Mapped[int] = mapped_column(Money)
    shipping: Mapped[int] = mapped_column(Money)
    shipping_tax: Mapped[int] = mapped_column(Money)
    tax: Mapped[int] = mapped_column(Money)
    total: Mapped[int] = mapped_column(Money)
    tracking_token: Mapped[str] = mapped_column(String(43), unique=True)
    # Fraud screening at capture (orders/fraud.py), when the channel has a threshold: the
    # points, the threshold they were compared with, and the reasons (codes with their
    # figures, put in words when read). None: not screened.
    fraud_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fraud_threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fraud_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonB, nullable=True)
    # What velocity and card rules count earlier orders by: the card the order was paid
    # with (a digest of the payment token, never the token) and the delivery address
    # (a digest of its normalised lines, postal code and country). None: none sent.
    card_fingerprint: Mapped[str | None] = mapped_column(String(32), nullable=True)
    address_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Lower-cased number, external reference, customer e-mail and name: what `q` searches.
    search: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("channel", "external_ref"),
        # Lists are newest first, keyset-paginated on (created_at, id): every filter's index
        # starts with the filter column and ends with those two.
        Index("ix_orders_created_at_id", "created_at", "id"),
        Index("ix_orders_status_created_at_id", "status", "created_at", "id"),
        Index("ix_orders_channel_created_at_id", "channel", "created_at", "id"),
        Index("ix_orders_customer_created_at_id", "customer_id", "created_at", "id"),
        Index("ix_orders_customer_email", "customer_email",
              postgresql_ops={"customer_email": "text_pattern_ops"}),
        # Substring search over a million orders: a trigram index on PostgreSQL; SQLite gets an
        # always-empty partial index (it scans, which is fine at its scale).
        Index(
            "ix_orders_search_trgm",
            "search",
            postgresql_using="gin",
            postgresql_ops={"search": "gin_trgm_ops"},
            sqlite_where=text("0"),
        ),
        # Fraud screening's velocity reads: a phone's or an address's orders of the last
        # minutes (the e-mail's use ix_orders_customer_email). Partial: most orders of a
        # pickup have no address key, and some orders no phone.
        Index("ix_orders_customer_phone_created_at", "customer_phone", "created_at",
              sqlite_where=text("customer_phone IS NOT NULL"),
              postgresql_where=text("customer_phone IS NOT NULL")),
        Index("ix_orders_address_key_created_at", "address_key", "created_at",
              sqlite_where=text("address_key IS NOT NULL"),
              postgresql_where=text("address_key IS NOT NULL")),
        CheckConstraint("version >= 1", name="version_positive"),
    )


# A search of several words ("marie mar", "Ada Byron") looks for the beginning of the customer's
# name (orders.search.search_condition): a trigram index cannot tell words that follow each
# other from words anywhere, and first names are common. The index carries the page's keys and
# the name, so the newest matches are picked from the index alone (an index-only scan) and only
# the page's own rows are read from the table. PostgreSQL only, like the trigram index.
Index(
    "ix_orders_customer_name_prefix",
    func.lower(Order.customer_name).label("customer_name_lower"),
    postgresql_ops={"customer_name_lower": "text_pattern_ops"},
    postgresql_include=["customer_name", "created_at", "id"],
    sqlite_where=text("0"),
)

# A search with a digit ("SHOP-12", a marketplace's order id) looks for references by their
# beginning (orders.search.search_condition): digits make trigrams that thousands of orders
# share, which a trigram index reads slowly. Covering, like the name index: however many
# references begin with it, the newest are picked from the index alone. PostgreSQL only.
Index(
    "ix_orders_external_ref_prefix",
    func.lower(Order.external_ref).label("external_ref_lower"),
    postgresql_ops={"external_ref_lower": "text_pattern_ops"},
    postgresql_include=["external_ref", "created_at", "id"],
    sqlite_where=text("0"),
)


class OrderLine(UUIDPrimaryKey, Base):
    """A SKU on an order: ``quantity`` is still ordered; cancelled units are counted apart."""

    __tablename__ = "order_lines"

    id: Mapped[uuid.UUID]
    order_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    unit_price: Mapped[int] = mapped_column(Money)
    # The line's VAT rate (basis points), its SKU's tax class in the delivery country when
    # it was priced; the order's ``vat_rate_bp`` is the standard rate, shipping's.
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    net: Mapped[int] = mapped_column(Money)
    tax: Mapped[int] = mapped_column(Money)
    total: Mapped[int] = mapped_column(Money)

    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("cancelled_quantity >= 0", name="cancelled_not_negative"),
    )


class OrderAllocation(UUIDPrimaryKey, Base):
    """Units of a line reserved at a location. ``quantity`` is what is reserved there now."""

    __tablename__ = "order_allocations"

    id: Mapped[uuid.UUID]
    order_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("orders.id"))
    line_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("order_lines.id"))
    sku: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Integer)
    # The order's creation time, copied here so that a location's orders, newest first, are
    # one index range: lists filtered by location stay fast at any size and selectivity.
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))

    __table_args__ = (
        # Loads an order's allocations; tells whether an order is allocated at a location.
        Index("ix_order_allocations_order_location", "order_id", "location"),
        Index("ix_order_allocations_location_created_at", "location", "created_at", "order_id"),
        # The allocations still holding units (shipping, cancelling or rejecting units takes
        # them to 0): work waiting at a location, oldest first, without the location's
        # history. A query uses them when it says ``quantity > 0`` with a literal 0.
        Index("ix_order_allocations_holding_location", "location", "created_at", "order_id",
              sqlite_where=text("quantity > 0"), postgresql_where=text("quantity > 0")),
        Index("ix_order_allocations_holding", "created_at", "order_id", "location",
              sqlite_where=text("quantity > 0"), postgresql_where=text("quantity > 0")),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )


class OrderNumberCounter(Base):
    """The last order number given in a year (SQLite; PostgreSQL uses a sequence per year)."""

    __tablename__ = "order_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


def _trigram_extension(target: Table, connection: Connection, **_kw: Any) -> None:
    # The search index needs pg_trgm. Alembic's create_table fires this for the table it
    # creates, so the extension exists before the index, even in a regenerated migration.
    if target.name == "orders" and connection.dialect.name == "postgresql":
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")


if not event.contains(Table, "before_create", _trigram_extension):
    event.listen(Table, "before_create", _trigram_extension)


# PostgreSQL: order capture writes everything in one statement; when a check at its end
# fails (orders/capture_pg.py), this aborts the statement and says why, in a
# message the application reads back ("comptoir capture: <reason>").
CAPTURE_REFUSAL_FUNCTION = """
CREATE OR REPLACE FUNCTION comptoir_capture_refused(reason text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF reason IS NOT NULL THEN
        RAISE EXCEPTION 'comptoir capture: %', reason USING ERRCODE = 'P0001';
    END IF;
    RETURN false;
END $$"""


def _capture_function(target: Table, connection: Connection, **_kw: Any) -> None:
    # Fired by Alembic's create_table too, so a regenerated migration keeps the function.
    if target.name == "orders" and connection.dialect.name == "postgresql":
        connection.exec_driver_sql(CAPTURE_REFUSAL_FUNCTION)


if not event.contains(Table, "after_create", _capture_function):
    event.listen(Table, "after_create", _capture_function)
