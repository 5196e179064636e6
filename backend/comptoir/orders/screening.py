"""What capture reads for fraud screening: the channel's rules and, only for the rules that
need it, the customer's history in one statement.

A channel without a threshold is not screened: nothing is read. Rules that look only at
the order itself (amounts, countries, watch lists) read nothing either. The history rules
are read together: whether the e-mail ordered before, each velocity window's count of
orders by the same e-mail, phone or delivery address, and the customer's distinct cards,
each a scalar subquery of one SELECT, over the indexes on the e-mail, the phone and the
address key, counting only as far as the rules need. On SQLite the SELECT runs in the
session; on PostgreSQL, like capture's other reads, with the captures of the same moment
(one statement for all of them, on the batch engine in autocommit: the capture holds no
connection and opens no transaction for it). Captures written in the same batched
statement (capture_pg) do not see each other: the count is of orders written before.
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, exists, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.config import service as config
from comptoir.config.schemas import FraudRuleOut
from comptoir.db.coalesce import Coalescer
from comptoir.db.engine import batch_engine, limits
from comptoir.orders import fraud
from comptoir.orders.checks import CaptureRequest
from comptoir.orders.models import Order

__all__ = ["rules_of", "screening_for"]

log = logging.getLogger("comptoir.orders.screening")

K = fraud.RuleKind


def rules_of(configured: Sequence[FraudRuleOut]) -> tuple[fraud.Rule, ...]:
    """The configured rules the scorer knows (a kind no longer known is logged, skipped)."""
    rules = []
    for rule in configured:
        try:
            kind = fraud.RuleKind(rule.kind)
        except ValueError:
            log.warning("fraud rule of unknown kind %r skipped", rule.kind)
            continue
        rules.append(fraud.Rule(kind, points=max(0, rule.points), amount=rule.amount,
                                minutes=rule.minutes, count=rule.at_least,
                                values=rule.values))
    return tuple(rules)


async def screening_for(
    session: AsyncSession, request: CaptureRequest, now: dt.datetime,
    shared: AsyncEngine | None = None,
) -> fraud.Screening | None:
    """The screening of the order ``request`` asks for; None when its channel screens none.
    ``shared``: read with the other captures of the moment, on that engine (PostgreSQL)."""
    threshold = request.channel.fraud_threshold
    if threshold is None:
        return None
    rules = rules_of(await config.fraud_rules(request.channel.code))
    return fraud.Screening(threshold, rules,
                           await _history(session, request, rules, now, shared))


async def _history(
    session: AsyncSession, request: CaptureRequest, rules: Sequence[fraud.Rule],
    now: dt.datetime, shared: AsyncEngine | None,
) -> fraud.History:
    email = request.email.lower() if request.email else None
    columns: list[ColumnElement[Any]] = []
    labels: list[fraud.Window | None] = []  # None: the "ordered before" column
    if email and any(rule.kind is K.NEW_CUSTOMER_AMOUNT_OVER for rule in rules):
        columns.append(exists().where(Order.customer_email == email).label("ordered_before"))
        labels.append(None)
    for window in fraud.windows(rules):
        counted = _count(window, _enough(window, rules), request, email, now)
        if counted is not None:
            columns.append(counted.label(f"c{len(columns)}"))
            labels.append(window)
    if not columns:
        return fraud.History()
    if shared is None:
        row: Sequence[Any] = (await session.execute(select(*columns))).one()
    else:
        row = await _read_together(shared, columns)
    earlier: int | None = None
    counts: dict[fraud.Window, int] = {}
    for label, value in zip(labels, row, strict=True):
        if label is None:
            earlier = 1 if value else 0
        elif label.kind is K.MANY_CARDS:  # this order's card is one more, unless known
            counts[label] = int(value or 0) + (1 if request.card_fingerprint else 0)
        else:
            counts[label] = int(value or 0)
    return fraud.History(earlier_orders=earlier, counts=counts)


def _enough(window: fraud.Window, rules: Sequence[fraud.Rule]) -> int:
    """How many earlier orders (or cards) decide every rule of ``window``: with this order,
    the largest ``at_least`` among them. Counting stops there, so a hot address (a relay
    point, a store) costs a few index entries, not its whole history."""
    return max(rule.count or 1 for rule in rules
               if rule.kind is window.kind and rule.minutes == window.minutes) - 1


def _count(window: fraud.Window, enough: int, request: CaptureRequest, email: str | None,
           now: dt.datetime) -> ColumnElement[Any] | None:
    """The scalar subquery counting ``window`` for this order, up to ``enough``; None when
    the order has nothing to count by (no phone, a pickup, no e-mail)."""
    given = request.data.customer
    by: ColumnElement[bool]
    if window.kind is K.VELOCITY_PHONE:
        phone = given.phone if given is not None else None
        if not phone:
            return None
        by = Order.customer_phone == phone
    elif window.kind is K.VELOCITY_ADDRESS:
        if request.address_key is None:
            return None
        by = Order.address_key == request.address_key
    elif email is None:
        return None
    else:
        by = Order.customer_email == email
    since = [] if window.minutes is None else [
        Order.created_at >= now - dt.timedelta(minutes=window.minutes)]
    found: Select[Any]
    if window.kind is K.MANY_CARDS:
        others = ([Order.card_fingerprint != request.card_fingerprint]
                  if request.card_fingerprint else [])
        found = (select(Order.card_fingerprint).distinct()
                 .where(by, Order.card_fingerprint.is_not(None), *others, *since))
    else:
        found = select(Order.id).where(by, *since)
    counted = found.limit(enough).subquery()
    return select(func.count()).select_from(counted).scalar_subquery()


_together: weakref.WeakKeyDictionary[
    AsyncEngine, Coalescer[list[ColumnElement[Any]], list[Any]]]
_together = weakref.WeakKeyDictionary()


async def _read_together(engine: AsyncEngine, columns: list[ColumnElement[Any]]) -> list[Any]:
    """The values of ``columns`` (scalar subqueries), read in one statement with those of
    the other captures asking at the same moment: each capture's values as a JSON array, a
    row per capture (their columns differ), on a batch engine connection held for that
    statement only. ``Saturated`` when too many wait already."""
    coalescer = _together.get(engine)
    if coalescer is None:
        reader = batch_engine(engine)

        async def read(asked: Sequence[list[ColumnElement[Any]]]) -> list[list[Any]]:
            rows = [select(literal(n).label("n"),
                           func.json_build_array(*wanted, type_=JSON).label("v"))
                    for n, wanted in enumerate(asked)]
            statement = rows[0] if len(rows) == 1 else union_all(*rows)
            async with reader.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                found = {n: list(values) for n, values in await connection.execute(statement)}
            return [found[n] for n in range(len(asked))]

        bounds = limits(engine)
        coalescer = _together[engine] = Coalescer(
            read, limit=64, max_waiting=bounds.max_waiting_captures,
            max_wait=bounds.queue_timeout)
    return await coalescer.submit(columns)
