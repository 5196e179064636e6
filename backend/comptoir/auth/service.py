"""Signing staff in, issuing and checking API keys, and slowing down password guessing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any, TypedDict

import anyio
from piccolo.apps.user.tables import BaseUser
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comptoir.attempts import AttemptCounter
from comptoir.auth.models import ApiKey
from comptoir.auth.schemas import Principal, RoleName
from comptoir.auth.sessions import refuse_if_session_store_was_unavailable
from comptoir.auth.throttle import subjects_for
from comptoir.config.models import Location, Role, StaffProfile
from comptoir.errors import InvalidInput, TooManyRequests, Unauthorized
from comptoir.web.http import HttpOrWebSocket, Route

__all__ = [
    "StaffSession",
    "create_api_key",
    "create_staff",
    "hash_api_key",
    "principal_for_connection",
    "sign_in",
    "update_staff",
]

KEY_PREFIX = "cmp_"
_KEY_CACHE_SECONDS = 30.0
_key_cache: dict[str, tuple[float, Principal | None]] = {}


def hash_api_key(key: str) -> str:
    # Keys carry 256 bits of randomness: a fast hash is enough, unlike passwords.
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    channel: str | None = None,
    location: str | None = None,
) -> tuple[ApiKey, str]:
    """Make a key; return its row and the key itself, which is never stored."""
    from comptoir.config import service as config

    if role not in {r.value for r in Role}:
        raise InvalidInput(f"Unknown role '{role}': admin, manager, associate or channel.",
                           code="unknown_role")
    if role == "channel" and not channel:
        raise InvalidInput("A channel key needs --channel CODE.", code="channel_required")
    if channel is not None and await config.get_channel(channel) is None:
        raise InvalidInput(f"Unknown channel '{channel}'.", code="unknown_channel")
    if location is not None and await config.get_location(location) is None:
        raise InvalidInput(f"Unknown location '{location}'.", code="unknown_location")
    if role == "associate" and not location:
        raise InvalidInput("An associate key needs --location CODE.", code="location_required")
    secret = secrets.token_urlsafe(32)
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secret}"
    row = ApiKey(
        name=name, role=role, channel=channel, location=location, prefix=prefix,
        key_hash=hash_api_key(key),
    )
    session.add(row)
    await session.flush()
    return row, key


async def _principal_for_key(
    sessionmaker: async_sessionmaker[AsyncSession], key: str
) -> Principal | None:
    digest = hash_api_key(key)
    now = time.monotonic()
    cached = _key_cache.get(digest)
    if cached is not None and now - cached[0] < _KEY_CACHE_SECONDS:
        return cached[1]
    async with sessionmaker() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    principal = None
    if row is not None and row.active:
        principal = Principal(
            kind="api_key", id=str(row.id), name=row.name, role=row.role,  # type: ignore[arg-type]
            location=row.location, channel=row.channel,
        )
    if len(_key_cache) > 10_000:
        _key_cache.clear()
    _key_cache[digest] = (now, principal)
    return principal


def forget_api_keys() -> None:
    """Drop cached key look-ups (after a key is revoked in this process)."""
    _key_cache.clear()


async def principal_for_connection(
    connection: HttpOrWebSocket[Route],
) -> Principal | None:
    """The caller: an API key in ``Authorization: Bearer``, else the session's staff member."""
    authorization = connection.headers.get("authorization", "")
    if authorization:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthorized("Use 'Authorization: Bearer <API key>'.", code="bad_authorization")
        principal = await _principal_for_key(connection.app.state.sessionmaker, key.strip())
        if principal is None:
            raise Unauthorized("This API key is unknown or revoked.", code="bad_api_key")
        return principal
    refuse_if_session_store_was_unavailable(connection)
    if not connection.scope.get("session"):
        return None
    data = connection.session
    if "uid" not in data:
        return None
    return Principal(
        kind="staff", id=str(data["uid"]), name=data["username"], role=data["role"],
        location=data.get("location"),
    )


def _timing_pad() -> str:
    # A stored-password look-alike with the current cost, checked when the user is unknown.
    return f"pbkdf2_sha256${BaseUser._pbkdf2_iteration_count}$timingpad$00"


def _verify_password(password: str, stored: str) -> bool:
    try:
        _algorithm, iterations, salt, _hashed = BaseUser.split_stored_password(stored)
    except ValueError:
        return False
    candidate = BaseUser.hash_password(password, salt, int(iterations))
    return hmac.compare_digest(candidate, stored)


class StaffSession(TypedDict):
    """What a staff member's session holds (the store keeps it as JSON)."""

    uid: int
    username: str
    role: RoleName
    location: str | None
    csrf: str


async def sign_in(
    attempts: AttemptCounter, *, username: str, password: str, address: str
) -> StaffSession:
    """Check a staff member's password, if the recent attempts from ``address`` allow it;
    return what their session holds."""
    subjects = subjects_for(username, address)
    admission = await attempts.admit(subjects)  # counted before the password is looked at
    if not admission.allowed:
        raise TooManyRequests(
            f"Too many sign-in attempts from this address: wait {admission.retry_after} s "
            "and try again.",
            code="too_many_attempts", retry_after=admission.retry_after,
            headers={"Retry-After": str(admission.retry_after)},
        )
    user = await _user_with_password(username, password)
    if user is None:
        raise Unauthorized("Wrong username or password.", code="bad_credentials")
    await attempts.succeeded(subjects)  # the right password is no guess, whatever follows
    return await _session_for(user)


async def _user_with_password(username: str, password: str) -> dict[str, Any] | None:
    """The user named ``username`` if ``password`` is theirs, else None."""
    user = await BaseUser.select(
        BaseUser.id, BaseUser.username, BaseUser.password, BaseUser.active, BaseUser.admin,
        BaseUser.superuser,
    ).where(BaseUser.username == username).first()
    # Hash even for an unknown user, so timing does not tell which usernames exist.
    stored = user["password"] if user else _timing_pad()
    ok = await anyio.to_thread.run_sync(_verify_password, password, stored)
    return user if user is not None and ok else None


async def _session_for(user: dict[str, Any]) -> StaffSession:
    if not user["active"]:
        raise Unauthorized("This account is disabled.", code="account_disabled")
    profile = await StaffProfile.select(
        StaffProfile.role, StaffProfile.location.code.as_alias("location_code")
    ).where(StaffProfile.user == user["id"]).first()
    if profile is None:
        if not user["superuser"]:
            raise Unauthorized("This account has no staff profile.", code="no_staff_profile")
        profile = {"role": "admin", "location_code": None}
    return StaffSession(
        uid=user["id"],
        username=user["username"],
        role=profile["role"],
        location=profile["location_code"],
        csrf=secrets.token_urlsafe(24),
    )


async def create_staff(
    *, username: str, password: str, role: str, email: str = "", location: str | None = None
) -> int:
    """Create a staff member (piccolo user + profile); admins may also use /admin."""
    if len(password) < 8:
        raise InvalidInput("A password has at least 8 characters.", code="weak_password")
    if await BaseUser.exists().where(BaseUser.username == username):
        raise InvalidInput(f"The username '{username}' is taken.", code="username_taken")
    location_id = await _checked_role_and_location(role, location)
    user = await BaseUser.create_user(
        username=username, password=password, email=email or f"{username}@comptoir.invalid",
        active=True, admin=role == "admin", superuser=role == "admin",
    )
    await StaffProfile(user=user.id, role=role, location=location_id).save()
    return int(user.id)


async def _checked_role_and_location(role: str, location: str | None) -> int | None:
    """The id of ``location`` (a code) once the pair is one a staff member may have."""
    if role not in {"admin", "manager", "associate"}:
        raise InvalidInput(f"Unknown staff role '{role}': admin, manager or associate.",
                           code="unknown_role")
    if role == "associate" and not location:
        raise InvalidInput("An associate needs a home location.", code="location_required")
    if not location:
        return None
    row = await Location.select(Location._meta.primary_key).where(
        Location.code == location).first()
    if row is None:
        raise InvalidInput(f"Unknown location '{location}'.", code="unknown_location")
    return int(row["id"])


async def update_staff(
    *, username: str, role: str, location: str | None, email: str, active: bool,
    password: str | None = None,
) -> None:
    """Change what a manager changes about a staff member, account and profile together: an
    admin's account opens /admin, nobody else's does. Takes effect at their next sign-in."""
    user = await BaseUser.select(BaseUser.id).where(BaseUser.username == username).first()
    if user is None:
        raise InvalidInput(f"No staff member is called '{username}'.", code="unknown_staff")
    location_id = await _checked_role_and_location(role, location)
    if password is not None and len(password) < 8:
        raise InvalidInput("A password has at least 8 characters.", code="weak_password")
    async with BaseUser._meta.db.transaction():
        await BaseUser.update({BaseUser.email: email, BaseUser.active: active,
                               BaseUser.admin: role == "admin",
                               BaseUser.superuser: role == "admin"}).where(
            BaseUser.id == user["id"])
        if password is not None:
            await BaseUser.update_password(user["id"], password)
        if await StaffProfile.exists().where(StaffProfile.user == user["id"]):
            await StaffProfile.update({StaffProfile.role: role,
                                       StaffProfile.location: location_id}).where(
                StaffProfile.user == user["id"])
        else:
            await StaffProfile(user=user["id"], role=role, location=location_id).save()
