"""Who is calling, and the sign-in exchange."""

from __future__ import annotations

from typing import Annotated, Literal

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


# piccolo's BaseUser holds usernames of at most 100 characters and will not hash a password of
# more than 128: a longer one can be nobody's, so it is refused before any hashing.
USERNAME_MAX_LENGTH = 100
PASSWORD_MAX_LENGTH = 128


class LoginIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=USERNAME_MAX_LENGTH)]
    password: Annotated[str, msgspec.Meta(max_length=PASSWORD_MAX_LENGTH)]


class MeOut(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    id: str
    name: str
    role: str
    location: str | None
    channel: str | None
    csrf_token: str | None = None
