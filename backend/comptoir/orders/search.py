"""The list of orders: filters, the search box, and keyset pagination."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.schemas import Principal
from comptoir.db.engine import is_postgres
from comptoir.errors import InvalidInput
from comptoir.orders import lifecycle, numbering
from comptoir.orders.models import Order, OrderAllocation
from comptoir.orders.reading import summary
from comptoir.orders.schemas import OrderPage
from comptoir.pagination import decode_time_cursor, encode_cursor

__all__ = ["MAX_PAGE", "list_orders", "search_condition"]

MAX_PAGE = 200


def _like_escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _name_search(needle: str) -> bool:
    """Whether ``needle`` (its words one space apart) is a search of several words."""
    return " " in needle and "@" not in needle


def _reference_search(needle: str) -> bool:
    """Whether ``needle`` is one word with a digit, as references are ("SHOP-12", "4242")."""
    return (" " not in needle and "@" not in needle and any(c.isdigit() for c in needle)
            and numbering.parse_number(needle.upper()) is None)


def search_condition(q: str, *, postgres: bool = False, anywhere: bool = False) -> Any:
    """What ``q`` matches, case-insensitively, each through an index on PostgreSQL:

    - a whole order number: that order (b-tree on the number);
    - an e-mail or its beginning (an "@" after the first character): the orders whose customer
      e-mail begins with it (b-tree on the e-mail);
    - one word with a digit ("SHOP-12", "984-412"): the orders whose external reference begins
      with it (``ix_orders_external_ref_prefix``). ``anywhere`` looks for it in any part of the
      number, reference, e-mail or name instead: `list_orders` does when no reference begins
      with it ("4242" for "SHOP-4242", "000123" for an order number, "ada.b2" for an e-mail);
    - several words ("Marie Mar", "ada byron"): the orders whose customer name begins with them
      (``ix_orders_customer_name_prefix``). SQLite, at its scale, looks for them anywhere in
      the number, reference, e-mail and name, which also finds those;
    - else any part of the number, external reference, e-mail or name ("durand", "@example.fr"):
      the trigram index for a rare word, the newest orders filtered for a common one, as the
      planner judges from ``search``'s statistics.

    Whole numbers, e-mails and references are made of trigrams shared by thousands of orders
    ("cmp", "@ex", "202"…), which a trigram index reads slowly; and a trigram index cannot
    tell words that follow each other from words anywhere in the text, so "marie mar" would
    read every Marie.
    """
    needle = " ".join(q.split())
    if numbering.parse_number(needle.upper()) is not None:
        return Order.number == needle.upper()
    escaped = _like_escape(needle.lower())
    if "@" in needle and not needle.startswith("@"):
        return Order.customer_email.like(f"{escaped}%", escape="\\")
    if _reference_search(needle) and not anywhere:
        return func.lower(Order.external_ref).like(f"{escaped}%", escape="\\")
    if postgres and _name_search(needle):
        return func.lower(Order.customer_name).like(f"{escaped}%", escape="\\")
    return Order.search.like(f"%{escaped}%", escape="\\")


async def list_orders(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None = None,
    channel: str | None = None,
    location: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> OrderPage:
    """Orders newest first, keyset-paginated on (created_at, id): no OFFSET, steady at 1M rows.

    With a location (asked for, or an associate's own), the walk goes along that location's
    allocations index instead, which holds the same (created_at, order) keys.

    On PostgreSQL the query is planned for its own values every time (``plan_cache_mode``):
    asyncpg prepares statements, and a plan made once without the values, for a common status
    or word, can walk the whole table for a rare one (and the other way round).
    """
    postgres = is_postgres(session)
    if postgres:
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} orders.", code="invalid_limit")
    if principal.role == "associate":
        if principal.location is None or location not in (None, principal.location):
            return OrderPage(items=[], next_cursor=None)
        location = principal.location
    columns = (
        Order.id, Order.number, Order.status, Order.channel, Order.external_ref,
        Order.created_at, Order.customer_name, Order.customer_email, Order.delivery_method,
        Order.pickup_location, Order.total, Order.currency, Order.version, Order.hold_reason,
    )
    if location:
        # One row per order even when several of its lines are allocated there: grouping
        # follows the index order, so the page still stops after `limit` orders.
        created_at, order_id = OrderAllocation.created_at, OrderAllocation.order_id
        query = (select(*columns).select_from(OrderAllocation)
                 .join(Order, Order.id == OrderAllocation.order_id)
                 .where(OrderAllocation.location == location)
                 .group_by(created_at, order_id, Order.id))
    else:
        created_at, order_id = Order.created_at, Order.id
        query = select(*columns)
    if principal.role == "channel":
        query = query.where(Order.channel == principal.channel)
    if status:
        statuses = [s.strip() for s in status.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in set(lifecycle.Status)]
        if unknown:
            raise InvalidInput(f"Unknown order status {', '.join(unknown)}; one of "
                               f"{', '.join(lifecycle.Status)}.", code="unknown_status")
        query = query.where(Order.status.in_(statuses) if len(statuses) > 1
                            else Order.status == statuses[0])
    if channel:
        query = query.where(Order.channel == channel)
    if created_from is not None:
        query = query.where(created_at >= _utc(created_from))
    if created_to is not None:
        query = query.where(created_at < _utc(created_to))
    if cursor:
        after_at, after_id = decode_time_cursor(cursor)
        query = query.where(tuple_(created_at, order_id) < (after_at, after_id))
    newest_first = (created_at.desc(), order_id.desc())

    async def page(selection: Any, *, keys_first: bool = False) -> Sequence[Any]:
        if keys_first:
            # Every matching key first, from the name or reference index, then the newest
            # page of them, then only those rows. Walking the newest orders until enough
            # match is no plan here: references follow time (SHOP-1…, SHOP-2…), so the
            # matches of a prefix can all be two years old.
            matches = (selection.with_only_columns(Order.id, Order.created_at)
                       .cte("matches").prefix_with("MATERIALIZED"))
            keys = (select(matches.c.id)
                    .order_by(matches.c.created_at.desc(), matches.c.id.desc()).limit(limit + 1))
            selection = select(*columns).where(Order.id.in_(keys))
        return (await session.execute(
            selection.order_by(*newest_first).limit(limit + 1))).all()

    if q and q.strip():
        needle = " ".join(q.split())
        keys_first = postgres and not location and (
            _name_search(needle) or _reference_search(needle))
        rows = await page(query.where(search_condition(needle, postgres=postgres)),
                          keys_first=keys_first)
        if not rows and _reference_search(needle):
            # Nothing begins with it: anywhere. A page after a cursor is never empty in the
            # first way (the cursor says more follow), so every page of a walk agrees.
            rows = await page(query.where(
                search_condition(needle, postgres=postgres, anywhere=True)))
    else:
        rows = await page(query)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [summary(r) for r in rows]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return OrderPage(items=items, next_cursor=next_cursor)
