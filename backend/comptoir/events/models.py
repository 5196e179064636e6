"""Tables of the event log and the outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Table, Text, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from comptoir.db.base import GUID, Base, DateTimeUTC, JsonB, new_id, utcnow

__all__ = ["SEQ_LOCK_KEY", "Event", "OutboxMessage"]

# Key of the PostgreSQL advisory lock that serialises the numbering of events at commit.
SEQ_LOCK_KEY = 0x636F6D7074_01  # "compt", 1


class Event(Base):
    """One domain event. ``seq`` is the global order of everything that happened.

    ``seq`` is given when the transaction commits, in commit order, so a reader that has
    seen sequence N never later finds a committed event below N: resuming "everything after
    N" misses nothing. The database numbers the rows (triggers below): PostgreSQL inside
    COMMIT, SQLite as they are inserted (every writer holds its write lock).
    """

    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=new_id)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    topic: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_events_topic_subject_seq", "topic", "subject", "seq"),)


class OutboxMessage(Base):
    """A side effect to deliver after commit, at least once, with retries."""

    __tablename__ = "outbox"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    event_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), nullable=True
    )
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), nullable=True
    )

    __table_args__ = (Index("ix_outbox_status_available_at", "status", "available_at"),)


# A deferred constraint trigger fires inside COMMIT, after every statement of the
# transaction ran: it takes the numbering lock there and holds it only until the commit
# record is flushed and the rows are visible, so the next committer's numbers are higher
# and a reader never sees N before N - 1 is visible. No round trip to the application
# happens under the lock. Sequence holes (a commit failing after numbering) are harmless:
# readers ask for "everything after N".
NUMBER_AT_COMMIT = (
    "CREATE SEQUENCE IF NOT EXISTS events_seq_numbers",
    f"""CREATE OR REPLACE FUNCTION comptoir_number_event() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock({SEQ_LOCK_KEY});
        UPDATE events SET seq = nextval('events_seq_numbers') WHERE id = NEW.id;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS events_number_at_commit ON events",
    """CREATE CONSTRAINT TRIGGER events_number_at_commit AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq IS NULL)
    EXECUTE FUNCTION comptoir_number_event()""",
)


# SQLite: every transaction holds the database's write lock from its first statement
# (BEGIN IMMEDIATE), so numbering as the row is inserted is numbering in commit order.
NUMBER_AT_INSERT_SQLITE = (
    """CREATE TRIGGER IF NOT EXISTS events_number_at_insert AFTER INSERT ON events
    WHEN NEW.seq IS NULL BEGIN
        UPDATE events SET seq = (SELECT coalesce(max(seq), 0) + 1 FROM events)
        WHERE id = NEW.id;
    END""",
)


def _number_at_commit(target: Table, connection: Connection, **_kw: Any) -> None:
    # Fired by Alembic's create_table too, so a regenerated migration keeps the trigger.
    if target.name != "events":
        return
    if connection.dialect.name == "postgresql":
        for statement in NUMBER_AT_COMMIT:
            connection.exec_driver_sql(statement)
    elif connection.dialect.name == "sqlite":
        for statement in NUMBER_AT_INSERT_SQLITE:
            connection.exec_driver_sql(statement)


if not event.contains(Table, "after_create", _number_at_commit):
    event.listen(Table, "after_create", _number_at_commit)
