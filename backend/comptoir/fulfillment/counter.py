"""What the counter checks before a parcel leaves the store: the pickup code, and an ID above
an amount. Pure: no I/O.

**The pickup code, offline too.** The store's phones keep, for each parcel waiting at their
counter, a salted and deliberately slow hash of its code, never the code: with the network
cut they refuse a wrong code as the server would, and queue only a handover they verified
(the server checks the code again when the queued handover arrives). The hash is
PBKDF2-HMAC-SHA256, which every browser's WebCrypto computes, over the code as the counter
reads it (``normalise``), with a random 16-byte salt per fulfillment and ``ITERATIONS``
rounds. Measured on the 2-core machine this was written on: one check takes ~22 ms in
Chromium's WebCrypto, ~45 ms with Chromium's 4x CPU slowdown (Lighthouse's mid-range phone),
~50 ms in Python on the server (done once, when the parcel is marked ready). A million
guesses would take such a phone some 6 to 12 hours, and a pickup code is one of
31^8 ≈ 8.5e11 (``orders.service.new_pickup_code``) while the parcel waits a few days. The
iteration count travels with each hash, so it can be raised later without breaking the
hashes already given.

**The ID check.** Above an amount set per sales channel (``id_check_above``, minor units of
the channel's currency, None: never), the associate confirms they checked the customer's ID
before the parcel is handed over.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "ALGORITHM",
    "ITERATIONS",
    "PickupCodeDigest",
    "id_check_required",
    "normalise",
]

ALGORITHM: Final[Literal["PBKDF2-SHA256"]] = "PBKDF2-SHA256"  # WebCrypto's PBKDF2, SHA-256
ITERATIONS = 100_000
SALT_BYTES = 16
_PREFIX = "pbkdf2-sha256"  # how a stored digest starts


def normalise(code: str) -> str:
    """The code as the counter reads it: upper case, spaces and dashes left out."""
    return "".join(code.split()).replace("-", "").upper()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(code: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", normalise(code).encode(), salt, iterations)


@dataclass(frozen=True, slots=True)
class PickupCodeDigest:
    """A pickup code's salted hash: what a phone needs to check a code, not the code."""

    iterations: int
    salt: bytes
    hash: bytes

    @classmethod
    def of(cls, code: str, *, salt: bytes | None = None,
           iterations: int = ITERATIONS) -> PickupCodeDigest:
        """Hash ``code`` with a fresh random salt (CPU-bound: some tens of ms)."""
        salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
        return cls(iterations=iterations, salt=salt, hash=_derive(code, salt, iterations))

    def matches(self, code: str) -> bool:
        return hmac.compare_digest(_derive(code, self.salt, self.iterations), self.hash)

    @property
    def salt_text(self) -> str:
        """The salt in base64url without padding, as the API gives it."""
        return _b64(self.salt)

    @property
    def hash_text(self) -> str:
        return _b64(self.hash)

    def stored(self) -> str:
        """As the fulfillment keeps it: ``pbkdf2-sha256$<iterations>$<salt>$<hash>``."""
        return f"{_PREFIX}${self.iterations}${self.salt_text}${self.hash_text}"

    @classmethod
    def parse(cls, text: str) -> PickupCodeDigest:
        """Read back what ``stored`` wrote; ValueError for anything else."""
        prefix, iterations, salt, hashed = text.split("$")
        if prefix != _PREFIX:
            raise ValueError(f"not a {_PREFIX} digest")
        return cls(iterations=int(iterations), salt=_unb64(salt), hash=_unb64(hashed))


def id_check_required(*, total: int, currency: str, threshold: int | None,
                      threshold_currency: str) -> bool:
    """Whether an order of ``total`` minor units of ``currency`` needs an ID check at the
    counter, for a channel asking for one above ``threshold`` (in ``threshold_currency``).

    An order in another currency than its channel's (the channel's was changed since) is
    checked: an amount in one currency says nothing of one in another, and the parcel is
    better protected than not.
    """
    if threshold is None:
        return False
    if currency.upper() != threshold_currency.upper():
        return True
    return total > threshold
