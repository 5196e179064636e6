"""Helpers for report tests: the payment tests' bank, outbox and orders paid by card."""

from __future__ import annotations

from tests.fulfillment.conftest import act, books, pickup_code, work_for  # noqa: F401
from tests.invoicing.conftest import company, packed, ship  # noqa: F401
from tests.orders.conftest import level, order_body, pickup, stored, web  # noqa: F401
from tests.payments.conftest import bank, card, drain, payments  # noqa: F401
