"""Who is calling, and the sign-in exchange."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["SYSTEM", "LoginIn", "MeOut", "Principal"]

RoleName = Literal["admin", "manager", "associate", "channel"]


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller: a staff member (session) or another system (API key)."""

    kind: Literal["staff", "api_key"]
    id: str
    name: str
    role: RoleName
    location: str | None = None
    channel: str | None = None

    @property
    def actor(self) -> str:
        """How the caller appears in the event log and the ledger."""
        return f"{'staff' if self.kind == 'staff' else 'key'}:{self.name}"


# Who acts when nobody does: periodic jobs (uncollected pickups, orders waiting for capacity).
SYSTEM = Principal(kind="staff", id="system", name="comptoir", role="admin")


class LoginIn(msgspec.Struct, frozen=True, kw_only=True):
    username: str = msgspec.field(name="username")
    password: str


class MeOut(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    id: str
    name: str
    role: str
    location: str | None
    channel: str | None
    csrf_token: str | None = None
