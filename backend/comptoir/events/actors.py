"""Who did it, in words a person reads: the event log's actor strings made into names.

The log stores an actor as a short stable string (``staff:<username>``, ``key:<API key name>``,
``customer``, ``staff:comptoir`` for Comptoir's own jobs, ``import:<file>``). A timeline shows
a person's name and their store, or the name of the system (API key) and its channel.
``with_actors`` joins the names onto any query of events, so a page of events and all its
actors are read in one statement, whatever the number of events or of people.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from sqlalchemy import (
    Boolean,
    ColumnElement,
    FromClause,
    Integer,
    String,
    column,
    func,
    literal,
    select,
    table,
)

from comptoir.auth.schemas import SYSTEM

__all__ = ["ACTOR_COLUMNS", "ActorKind", "ActorOut", "ActorRow", "actor_out", "with_actors"]

# staff: a person signed in; system: another system with an API key; customer: the customer
# (tracking page); comptoir: Comptoir's own periodic jobs; import: a file imported from the
# command line; unknown: anything else (shown as stored).
ActorKind = Literal["staff", "system", "customer", "comptoir", "import", "unknown"]


class ActorOut(msgspec.Struct, frozen=True, kw_only=True):
    """An event's actor for people: ``name`` (a person, an API key, a file) and ``place``
    (the staff member's store, or the channel or store an API key works for)."""

    kind: ActorKind
    name: str | None = None
    place: str | None = None


# Piccolo's tables (configuration) read with SQLAlchemy, in the request's own session.
_user = table("piccolo_user", column("id", Integer), column("username", String),
              column("first_name", String), column("last_name", String))
_profile = table("config_staff_profile", column("user", Integer), column("location", Integer))
_location = table("config_location", column("id", Integer), column("code", String),
                  column("name", String))
_channel = table("config_channel", column("code", String), column("name", String))
_key = table("api_keys", column("name", String), column("channel", String),
             column("location", String), column("active", Boolean))

# The columns ``with_actors`` adds, in the order ``actor_out`` reads them.
ACTOR_COLUMNS = ("actor_username", "actor_first", "actor_last", "actor_store", "actor_key",
                 "actor_key_place")
ActorRow = tuple[str | None, str | None, str | None, str | None, str | None, str | None]


def with_actors(
    source: FromClause, actor: ColumnElement[str]
) -> tuple[FromClause, list[ColumnElement[str | None]]]:
    """``source`` joined to the staff and API keys named by its ``actor`` column, and the
    columns to select for ``actor_out`` (``ACTOR_COLUMNS``)."""
    store = _location.alias("actor_store")
    key_store = _location.alias("actor_key_store")
    # Several API keys may share a name: one row per name, an active key's place first.
    keys = (
        select(_key.c.name,
               func.max(func.coalesce(_channel.c.name, key_store.c.name)).label("place"))
        .select_from(_key.outerjoin(_channel, _channel.c.code == _key.c.channel)
                     .outerjoin(key_store, key_store.c.code == _key.c.location))
        .group_by(_key.c.name)
        .subquery("actor_keys")
    )
    joined = (
        source
        .outerjoin(_user, actor == literal("staff:", String).concat(_user.c.username))
        .outerjoin(_profile, _profile.c.user == _user.c.id)
        .outerjoin(store, store.c.id == _profile.c.location)
        .outerjoin(keys, actor == literal("key:", String).concat(keys.c.name))
    )
    columns: list[ColumnElement[str | None]] = [
        _user.c.username.label(ACTOR_COLUMNS[0]),
        _user.c.first_name.label(ACTOR_COLUMNS[1]),
        _user.c.last_name.label(ACTOR_COLUMNS[2]),
        store.c.name.label(ACTOR_COLUMNS[3]),
        keys.c.name.label(ACTOR_COLUMNS[4]),
        keys.c.place.label(ACTOR_COLUMNS[5]),
    ]
    return joined, columns


def _person(username: str, first: str | None, last: str | None) -> str:
    full = " ".join(part.strip() for part in (first, last) if part and part.strip())
    return full or username


def actor_out(actor: str, row: ActorRow) -> ActorOut:
    """How to show ``actor``, given the ``ACTOR_COLUMNS`` of its row (None when not found)."""
    username, first, last, store, key, key_place = row
    prefix, _, rest = actor.partition(":")
    if actor == SYSTEM.actor:
        return ActorOut(kind="comptoir", name="Comptoir")
    if actor == "customer":
        return ActorOut(kind="customer")
    if prefix == "staff" and rest:
        # A person since deleted keeps their username.
        return ActorOut(kind="staff", name=_person(username or rest, first, last), place=store)
    if prefix == "key" and rest:
        return ActorOut(kind="system", name=key or rest, place=key_place)
    if prefix == "import" and rest:
        return ActorOut(kind="import", name=rest)
    return ActorOut(kind="unknown", name=actor)
