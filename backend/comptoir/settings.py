"""Comptoir's settings: one msgspec Struct read from ``COMPTOIR_*`` environment variables."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

__all__ = ["Settings", "SettingsError", "load_settings"]

PREFIX = "COMPTOIR_"


class SettingsError(Exception):
    """A setting has a value Comptoir cannot start with; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything Comptoir reads from its environment.

    Each field is read from ``COMPTOIR_<FIELD NAME IN CAPITALS>``.
    """

    database_url: str = "sqlite:///./var/comptoir.db"
    redis_url: str | None = None
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    var_dir: str = "./var"
    redis_prefix: str = "comptoir"
    # Seconds to connect to Redis, and to wait for one answer, before giving up (503).
    redis_timeout_seconds: float = 1.0
    outbox_poll_seconds: float = 1.0
    # Seconds between two sweeps of uncollected pickups (reminders, then cancellation) and
    # of old Idempotency-Keys; 0: off.
    sweep_interval: float = 300.0
    # Hours an Idempotency-Key is kept: a retry later than that is a new request.
    idempotency_retention_hours: float = 72.0
    log_level: str = "info"
    # Load: PostgreSQL connections a process keeps for requests; the longest a request waits
    # for one (or for its turn at a shared capture statement) before it is answered 503;
    # orders one shared capture statement writes at most; captures a process lets wait for
    # their statement before it answers 503 at once.
    db_pool_size: int = 20
    queue_timeout: float = 10.0
    capture_batch: int = 32
    max_waiting_captures: int = 1000
    # The sandbox payment provider (payments/providers/sandbox.py): the sandbox bank process
    # it talks to (in-process memory when unset); the secret its webhooks are signed with
    # (a fixed demo secret when empty); how long a ``tok_slow`` answer takes; how many
    # answers to a ``tok_timeout`` call are lost before one arrives.
    sandbox_bank_url: str | None = None
    sandbox_webhook_secret: str = ""
    sandbox_slow_seconds: float = 3.0
    sandbox_timeout_attempts: int = 2
    # Stripe: the secret key (sk_… or a restricted rk_…) and the signing secret of the webhook
    # endpoint (whsec_…); no key: no Stripe provider.
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql"))

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the async driver SQLAlchemy needs."""
        if self.is_sqlite:
            return "sqlite+aiosqlite:///" + str(self.sqlite_path)
        rest = self.database_url.split("://", 1)[1]
        return "postgresql+asyncpg://" + rest

    @property
    def sqlite_path(self) -> Path:
        raw = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        return Path(raw).expanduser().resolve()

    @property
    def postgres_dsn(self) -> str:
        """The database URL as asyncpg and psql understand it."""
        rest = self.database_url.split("://", 1)[1]
        return "postgresql://" + rest

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


_FIELD_TYPES: dict[str, type] = {
    "port": int,
    "outbox_poll_seconds": float,
    "redis_timeout_seconds": float,
    "sweep_interval": float,
    "idempotency_retention_hours": float,
    "db_pool_size": int,
    "queue_timeout": float,
    "capture_batch": int,
    "max_waiting_captures": int,
    "sandbox_slow_seconds": float,
    "sandbox_timeout_attempts": int,
}
_TYPE_NAMES = {int: "a whole number", float: "a number"}


def _validate(s: Settings) -> None:
    if not (s.is_sqlite or s.is_postgres):
        raise SettingsError(
            f"{PREFIX}DATABASE_URL={s.database_url!r}: expected sqlite:///path/to/file.db "
            "or postgresql://user@host:port/database"
        )
    if s.is_sqlite and (":///" not in s.database_url or not s.database_url.split(":///", 1)[1]):
        raise SettingsError(f"{PREFIX}DATABASE_URL={s.database_url!r}: write sqlite:///path")
    if s.is_postgres:
        parts = urlsplit(s.database_url)
        try:
            parts.port  # noqa: B018  (reading it validates it)
        except ValueError:
            raise SettingsError(
                f"{PREFIX}DATABASE_URL={s.database_url!r}: the port is not a number"
            ) from None
        if not parts.hostname or not parts.path.strip("/"):
            raise SettingsError(
                f"{PREFIX}DATABASE_URL={s.database_url!r}: a PostgreSQL URL needs a host "
                "and a database name"
            )
    if s.redis_url is not None:
        parts = urlsplit(s.redis_url)
        try:
            parts.port  # noqa: B018  (reading it validates it)
        except ValueError:
            raise SettingsError(
                f"{PREFIX}REDIS_URL={s.redis_url!r}: the port is not a number"
            ) from None
        if parts.scheme not in {"redis", "rediss", "unix"} or not (parts.hostname or parts.path):
            raise SettingsError(
                f"{PREFIX}REDIS_URL={s.redis_url!r}: expected redis://host:port/db"
            )
    if not 1 <= s.port <= 65535:
        raise SettingsError(f"{PREFIX}PORT={s.port}: a TCP port is between 1 and 65535")
    if not s.host.strip():
        raise SettingsError(f"{PREFIX}HOST is empty: give an interface, e.g. 0.0.0.0")
    public = urlsplit(s.public_url)
    if s.public_url and (public.scheme not in {"http", "https"} or not public.hostname):
        raise SettingsError(f"{PREFIX}PUBLIC_URL={s.public_url!r}: expected an http(s) URL")
    if s.secret_key and len(s.secret_key) < 32:
        raise SettingsError(f"{PREFIX}SECRET_KEY: use at least 32 characters")
    if s.log_level.lower() not in {"debug", "info", "warning", "error"}:
        raise SettingsError(f"{PREFIX}LOG_LEVEL={s.log_level!r}: debug, info, warning or error")
    if not (0 < s.outbox_poll_seconds < math.inf):
        raise SettingsError(
            f"{PREFIX}OUTBOX_POLL_SECONDS={s.outbox_poll_seconds}: a number of seconds above 0"
        )
    if not (0 < s.redis_timeout_seconds <= 60):
        raise SettingsError(
            f"{PREFIX}REDIS_TIMEOUT_SECONDS={s.redis_timeout_seconds}: a number of seconds "
            "above 0, at most 60"
        )
    if not (0 <= s.sweep_interval < math.inf):
        raise SettingsError(
            f"{PREFIX}SWEEP_INTERVAL={s.sweep_interval}: a number of seconds, 0 to turn it off"
        )
    if not (1 <= s.idempotency_retention_hours < math.inf):
        raise SettingsError(
            f"{PREFIX}IDEMPOTENCY_RETENTION_HOURS={s.idempotency_retention_hours}: a number "
            "of hours, at least 1 (a client retries for that long)"
        )
    if not 1 <= s.db_pool_size <= 500:
        raise SettingsError(f"{PREFIX}DB_POOL_SIZE={s.db_pool_size}: 1 to 500 connections")
    if not (0 < s.queue_timeout <= 300):
        raise SettingsError(
            f"{PREFIX}QUEUE_TIMEOUT={s.queue_timeout}: a number of seconds above 0, at most 300"
        )
    if not 1 <= s.capture_batch <= 1000:
        raise SettingsError(f"{PREFIX}CAPTURE_BATCH={s.capture_batch}: 1 to 1000 orders")
    if s.max_waiting_captures < 1:
        raise SettingsError(
            f"{PREFIX}MAX_WAITING_CAPTURES={s.max_waiting_captures}: at least 1"
        )
    if s.sandbox_bank_url is not None:
        bank = urlsplit(s.sandbox_bank_url)
        if bank.scheme not in {"http", "https"} or not bank.hostname:
            raise SettingsError(
                f"{PREFIX}SANDBOX_BANK_URL={s.sandbox_bank_url!r}: expected "
                "http://host:port of a sandbox bank process"
            )
    if not (0 <= s.sandbox_slow_seconds <= 60):
        raise SettingsError(
            f"{PREFIX}SANDBOX_SLOW_SECONDS={s.sandbox_slow_seconds}: 0 to 60 seconds"
        )
    if not 0 <= s.sandbox_timeout_attempts <= 100:
        raise SettingsError(
            f"{PREFIX}SANDBOX_TIMEOUT_ATTEMPTS={s.sandbox_timeout_attempts}: 0 to 100"
        )
    # The secrets themselves are never repeated in a message.
    if s.stripe_secret_key and not s.stripe_secret_key.startswith(("sk_", "rk_")):
        raise SettingsError(
            f"{PREFIX}STRIPE_SECRET_KEY: a Stripe secret key starts with sk_ (or rk_ for a "
            "restricted key), not pk_: the publishable key stays with the shop"
        )
    if s.stripe_webhook_secret and not s.stripe_webhook_secret.startswith("whsec_"):
        raise SettingsError(
            f"{PREFIX}STRIPE_WEBHOOK_SECRET: a webhook signing secret starts with whsec_ "
            "(Stripe shows it on the webhook endpoint's page)"
        )
    if s.stripe_secret_key and not s.stripe_webhook_secret:
        raise SettingsError(
            f"{PREFIX}STRIPE_WEBHOOK_SECRET is not set: with {PREFIX}STRIPE_SECRET_KEY, Stripe's "
            "webhooks must be verified to learn how pending payments end"
        )


def _secret_from_var_dir(var_dir: Path) -> str:
    """Read the secret key kept in ``var/``, making one on first run."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment; raise SettingsError naming a bad variable."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name in Settings.__struct_fields__:
        key = PREFIX + name.upper()
        raw = env.get(key)
        if raw is None or raw == "":
            continue
        kind = _FIELD_TYPES.get(name, str)
        try:
            values[name] = kind(raw)
        except ValueError:
            raise SettingsError(f"{key}={raw!r}: expected {_TYPE_NAMES[kind]}") from None
    unknown = sorted(
        k for k in env
        if k.startswith(PREFIX) and k[len(PREFIX):].lower() not in Settings.__struct_fields__
        and not k.startswith(PREFIX + "TEST_")
    )
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]}: see README.md for the variables")
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.is_sqlite and "database_url" not in values:
        settings = msgspec.structs.replace(
            settings, database_url=f"sqlite:///{Path(settings.var_dir) / 'comptoir.db'}"
        )
    _validate(settings)
    if not settings.secret_key:
        try:
            secret_key = _secret_from_var_dir(Path(settings.var_dir))
        except OSError as exc:
            raise SettingsError(
                f"{PREFIX}VAR_DIR={settings.var_dir!r}: cannot keep the secret key there "
                f"({exc.strerror}); make it writable or set {PREFIX}SECRET_KEY"
            ) from None
        settings = msgspec.structs.replace(settings, secret_key=secret_key)
    return settings
