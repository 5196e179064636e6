"""The live feed's messages on ``/ws``, and a committed event as it travels between processes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

__all__ = [
    "ClientMessage",
    "ErrorMessage",
    "EventMessage",
    "LiveEvent",
    "Ping",
    "Subscribed",
    "Unsubscribed",
]


class ClientMessage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a client sends: topics to follow or to drop, and (first time) where to resume.

    ``since`` is the last ``seq`` the client saw: everything after it on its topics is sent
    first, then live events. It is read from the connection's first subscription only.
    """

    subscribe: list[str] | None = None
    unsubscribe: list[str] | None = None
    since: int | None = None


class EventMessage(msgspec.Struct, kw_only=True):
    """One event, once, under the most specific topic the client follows it by; ``topics``
    lists every one of the client's topics it belongs to. ``type`` always has a dot."""

    seq: int
    topic: str
    topics: list[str]
    type: str
    data: dict[str, Any]
    at: dt.datetime


class Subscribed(msgspec.Struct, kw_only=True, tag_field="type", tag="subscribed"):
    """Sent once a subscription is live: every event up to ``seq`` on ``topics`` was sent."""

    topics: list[str]
    seq: int


class Unsubscribed(msgspec.Struct, kw_only=True, tag_field="type", tag="unsubscribed"):
    topics: list[str]


class ErrorMessage(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type",
                   tag="error"):
    """A refusal that leaves the connection open (a topic, a malformed message)."""

    code: str
    detail: str
    topic: str | None = None


class Ping(msgspec.Struct, tag_field="type", tag="ping"):
    """Sent when the feed has been quiet for a while, so clients can tell it is alive."""


class LiveEvent(msgspec.Struct, kw_only=True, frozen=True):
    """A committed event, as published to the other processes and handed to the hub."""

    id: str
    seq: int
    topic: str
    type: str
    subject: str
    data: dict[str, Any]
    at: dt.datetime
