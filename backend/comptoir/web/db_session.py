"""The end of a request's database session: commit on success, roll back otherwise, close.

advanced-alchemy's "autocommit" handler, without its cost when there is nothing to end: it
commits even a session that never began a transaction (or whose handler already committed),
and every commit runs the session's whole commit machinery and listeners. Here a session
that holds no transaction is only closed. A session that began one (a query, an added
object) is committed when the answer is 2xx, rolled back otherwise, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import cast

from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import (
    SESSION_TERMINUS_ASGI_EVENTS,
)
from litestar.constants import HTTP_RESPONSE_START
from litestar.types import Message, Scope
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["end_session_under"]

log = logging.getLogger("comptoir.db")


def end_session_under(scope_key: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """The before-send hook ending the session advanced-alchemy keeps under ``scope_key``
    (its config's ``session_scope_key``: a second app in one process, as in tests, gets a
    key of its own, and a hook reading the default key would leave its sessions open)."""

    async def end_session(message: Message, scope: Scope) -> None:
        session = cast("AsyncSession | None", get_aa_scope_state(scope, scope_key))
        if session is None:
            return
        try:
            if message["type"] == HTTP_RESPONSE_START and session.in_transaction():
                if 200 <= message["status"] < 300:
                    await session.commit()
                else:
                    await session.rollback()
        finally:
            if message["type"] in SESSION_TERMINUS_ASGI_EVENTS:
                try:
                    await session.close()
                except Exception:  # the answer is on its way: report, never fail it now
                    log.warning("closing a request's database session failed", exc_info=True)
                delete_aa_scope_state(scope, scope_key)

    return end_session
