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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from comptoir.config import service as config
from comptoir.config.schemas import FraudRuleOut
from comptoir.db.base import DateTimeUTC
from comptoir.db.coalesce import Coalescer
from comptoir.db.engine import batch_engine, limits
from comptoir.orders import fraud
from comptoir.orders.checks import CaptureRequest

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
    asked = _asked(request, rules, now)
    if asked is None:
        return fraud.History()
    if shared is None:
        statement = text("SELECT " + ", ".join(
            f"{sql} AS c{i}" for i, sql in enumerate(asked.columns(0)))).bindparams(
                *asked.binds(0))
        row: Sequence[Any] = tuple((await session.execute(statement, asked.params(0))).one())
    else:
        row = await _read_together(shared, asked)
    earlier: int | None = None
    counts: dict[fraud.Window, int] = {}
    for label, value in zip(asked.labels, row, strict=True):
        if label is None:
            earlier = 1 if value else 0
        elif label.kind is K.MANY_CARDS:  # this order's card is one more, unless known
            counts[label] = int(value or 0) + (1 if request.card_fingerprint else 0)
        else:
            counts[label] = int(value or 0)
    return fraud.History(earlier_orders=earlier, counts=counts)


@dataclass(frozen=True, slots=True)
class _Asked:
    """One capture's history read: each column's SQL, its parameters named ``<name>_@``
    (``@``: the capture's rank in a shared statement), their values, and what each column
    answers (None: whether the e-mail ordered before). Plain SQL text: building and caching
    SQLAlchemy constructs of six subqueries cost more than the read itself."""

    sql: tuple[str, ...]
    labels: tuple[fraud.Window | None, ...]
    values: dict[str, Any]
    times: tuple[str, ...]  # the parameters that are times
    # The same columns as data, for the shared statement (``_TOGETHER``): a count of
    # ``kind`` (exists, email, phone, address, cards) for ``key`` since a time, up to a limit.
    specs: tuple[tuple[str, str, dt.datetime, int, str | None], ...] = ()

    def columns(self, rank: int) -> list[str]:
        return [column.replace("@", str(rank)) for column in self.sql]

    def params(self, rank: int) -> dict[str, Any]:
        return {f"{name}_{rank}": value for name, value in self.values.items()}

    def binds(self, rank: int) -> list[BindParameter[Any]]:
        return [bindparam(f"{name}_{rank}", type_=_TIME) for name in self.times]


_TIME = DateTimeUTC(timezone=True)


def _asked(request: CaptureRequest, rules: Sequence[fraud.Rule],
           now: dt.datetime) -> _Asked | None:
    """What to read for ``rules`` about this order; None: nothing (no history rule, or
    nothing to count by: no e-mail, no phone, a pickup)."""
    email = request.email.lower() if request.email else None
    given = request.data.customer
    by = {K.VELOCITY_EMAIL: ("customer_email", "email", email),
          K.VELOCITY_PHONE: ("customer_phone", "phone", given.phone if given else None),
          K.VELOCITY_ADDRESS: ("address_key", "address", request.address_key),
          K.MANY_CARDS: ("customer_email", "email", email)}
    sql: list[str] = []
    labels: list[fraud.Window | None] = []
    values: dict[str, Any] = {}
    times: list[str] = []
    specs: list[tuple[str, str, dt.datetime, int, str | None]] = []
    if email and any(rule.kind is K.NEW_CUSTOMER_AMOUNT_OVER for rule in rules):
        sql.append("EXISTS (SELECT 1 FROM orders WHERE customer_email = :email_@)")
        labels.append(None)
        values["email"] = email
        specs.append(("exists", email, _EVER, 1, None))
    for i, window in enumerate(fraud.windows(rules)):
        column, name, value = by[window.kind]
        if not value:
            continue
        values[name] = value
        where = [f"{column} = :{name}_@"]
        if window.minutes is not None:
            where.append(f"created_at >= :since{i}_@")
            values[f"since{i}"] = now - dt.timedelta(minutes=window.minutes)
            times.append(f"since{i}")
        found = "SELECT 1 FROM orders"
        if window.kind is K.MANY_CARDS:
            found = "SELECT DISTINCT card_fingerprint FROM orders"
            where.append("card_fingerprint IS NOT NULL")
            if request.card_fingerprint:
                where.append("card_fingerprint <> :card_@")
                values["card"] = request.card_fingerprint
        values[f"enough{i}"] = _enough(window, rules)
        sql.append(f"(SELECT count(*) FROM ({found} WHERE {' AND '.join(where)} "
                   f"LIMIT :enough{i}_@) AS found)")
        labels.append(window)
        specs.append((_SPEC_KIND[window.kind], value,
                      now - dt.timedelta(minutes=window.minutes)
                      if window.minutes is not None else _EVER,
                      _enough(window, rules), request.card_fingerprint))
    if not sql:
        return None
    return _Asked(tuple(sql), tuple(labels), values, tuple(times), tuple(specs))


_EVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SPEC_KIND = {K.VELOCITY_EMAIL: "email", K.VELOCITY_PHONE: "phone",
              K.VELOCITY_ADDRESS: "address", K.MANY_CARDS: "cards"}

# PostgreSQL: every capture's history of the moment, in one statement whose text never
# changes (arrays in, one row per column asked), so it is planned once per connection.
# A text built per batch (a UNION of each capture's own SELECT) was planned at every
# capture: most of the history's cost.
_TOGETHER = text("""
SELECT q.n, q.i, CASE q.kind
  WHEN 'exists' THEN (SELECT count(*) FROM (SELECT 1 FROM orders o
                      WHERE o.customer_email = q.key LIMIT 1) AS f)
  WHEN 'email' THEN (SELECT count(*) FROM (SELECT 1 FROM orders o
                     WHERE o.customer_email = q.key AND o.created_at >= q.since
                     LIMIT q.lim) AS f)
  WHEN 'phone' THEN (SELECT count(*) FROM (SELECT 1 FROM orders o
                     WHERE o.customer_phone = q.key AND o.created_at >= q.since
                     LIMIT q.lim) AS f)
  WHEN 'address' THEN (SELECT count(*) FROM (SELECT 1 FROM orders o
                       WHERE o.address_key = q.key AND o.created_at >= q.since
                       LIMIT q.lim) AS f)
  ELSE (SELECT count(*) FROM (SELECT DISTINCT o.card_fingerprint FROM orders o
        WHERE o.customer_email = q.key AND o.created_at >= q.since
        AND o.card_fingerprint IS NOT NULL AND o.card_fingerprint IS DISTINCT FROM q.card
        LIMIT q.lim) AS f)
END AS v
FROM unnest(CAST(:n AS int[]), CAST(:i AS int[]), CAST(:kind AS text[]),
            CAST(:key AS text[]), CAST(:since AS timestamptz[]), CAST(:lim AS int[]),
            CAST(:card AS text[])) AS q(n, i, kind, key, since, lim, card)""")


def _enough(window: fraud.Window, rules: Sequence[fraud.Rule]) -> int:
    """How many earlier orders (or cards) decide every rule of ``window``: with this order,
    the largest ``at_least`` among them. Counting stops there, so a hot address (a relay
    point, a store) costs a few index entries, not its whole history."""
    return max(rule.count or 1 for rule in rules
               if rule.kind is window.kind and rule.minutes == window.minutes) - 1


_together: weakref.WeakKeyDictionary[AsyncEngine, Coalescer[_Asked, list[Any]]]
_together = weakref.WeakKeyDictionary()


async def _read_together(engine: AsyncEngine, asked: _Asked) -> list[Any]:
    """What ``asked`` reads, in one statement with the other captures asking at the same
    moment: a row per capture, its values as a JSON array (their columns differ), on a
    batch engine connection held for that statement only. ``Saturated`` when too many wait
    already."""
    coalescer = _together.get(engine)
    if coalescer is None:
        reader = batch_engine(engine)

        async def read(batch: Sequence[_Asked]) -> list[list[Any]]:
            rows = [(rank, i, *spec) for rank, one in enumerate(batch)
                    for i, spec in enumerate(one.specs)]
            params = {name: [row[k] for row in rows]
                      for k, name in enumerate(("n", "i", "kind", "key", "since", "lim", "card"))}
            found: list[list[Any]] = [[0] * len(one.specs) for one in batch]
            async with reader.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                for n, i, value in await connection.execute(_TOGETHER, params):
                    found[n][i] = value
            return found

        bounds = limits(engine)
        coalescer = _together[engine] = Coalescer(
            read, limit=64, max_waiting=bounds.max_waiting_captures,
            max_wait=bounds.queue_timeout)
    return await coalescer.submit(asked)

