"""The ``external`` provider: the channel took the money (a marketplace, a till, a shop's own
checkout), so Comptoir records what moves and the channel moves it.

Its captures are recorded when the order arrives (``payment.record``); a refund or a void
decided in Comptoir is recorded as done with a message saying the channel carries it out,
and its ``payment.refunded`` event is what the channel is told by (the webhooks of the
notifications issue). Nothing is called: there is nothing to fail or to time out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from comptoir.payments.providers.base import Answer, BadWebhook, ProviderCall, WebhookOutcome

__all__ = ["ExternalProvider"]


class ExternalProvider:
    name = "external"

    async def call(self, call: ProviderCall) -> Answer:
        return Answer(status="succeeded", reference=call.source or None,
                      message=f"Recorded: the channel carries out this {call.operation.value}.")

    def webhook(self, body: bytes, headers: Mapping[str, str], *,
                now: dt.datetime) -> list[WebhookOutcome]:
        raise BadWebhook("The external provider has no webhooks: the channel reports through "
                         "the API.")
