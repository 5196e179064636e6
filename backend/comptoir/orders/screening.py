"""What capture reads for fraud screening: the channel's rules and, only for the rules that
need it, the customer's history in one statement.

A channel without a threshold is not screened: nothing is read. Rules that look only at
the order itself (amounts, countries, watch lists) read nothing either. The history rules
are read together: whether the e-mail ordered before, each velocity window's count of
orders by the same e-mail, phone or delivery address, and the customer's distinct cards,
each a scalar subquery of one SELECT on the session's connection, over the indexes on the
e-mail, the phone and the address key. Captures written in the same batched statement
(capture_pg) do not see each other: the count is of orders written before this read.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.config import service as config
from comptoir.config.schemas import FraudRuleOut
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
    session: AsyncSession, request: CaptureRequest, now: dt.datetime
) -> fraud.Screening | None:
    """The screening of the order ``request`` asks for; None when its channel screens none."""
    threshold = request.channel.fraud_threshold
    if threshold is None:
        return None
    rules = rules_of(await config.fraud_rules(request.channel.code))
    return fraud.Screening(threshold, rules, await _history(session, request, rules, now))


async def _history(
    session: AsyncSession, request: CaptureRequest, rules: Sequence[fraud.Rule],
    now: dt.datetime,
) -> fraud.History:
    email = request.email.lower() if request.email else None
    columns: list[ColumnElement[Any]] = []
    labels: list[fraud.Window | None] = []  # None: the "ordered before" column
    if email and any(rule.kind is K.NEW_CUSTOMER_AMOUNT_OVER for rule in rules):
        columns.append(exists().where(Order.customer_email == email).label("ordered_before"))
        labels.append(None)
    for window in fraud.windows(rules):
        counted = _count(window, request, email, now)
        if counted is not None:
            columns.append(counted.label(f"c{len(columns)}"))
            labels.append(window)
    if not columns:
        return fraud.History()
    row = (await session.execute(select(*columns))).one()
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


def _count(window: fraud.Window, request: CaptureRequest, email: str | None,
           now: dt.datetime) -> ColumnElement[Any] | None:
    """The scalar subquery counting ``window`` for this order; None when the order has
    nothing to count by (no phone, a pickup, no e-mail)."""
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
    if window.kind is K.MANY_CARDS:
        others = ([Order.card_fingerprint != request.card_fingerprint]
                  if request.card_fingerprint else [])
        return (select(func.count(Order.card_fingerprint.distinct()))
                .where(by, Order.card_fingerprint.is_not(None), *others, *since)
                .scalar_subquery())
    return select(func.count()).select_from(Order).where(by, *since).scalar_subquery()
