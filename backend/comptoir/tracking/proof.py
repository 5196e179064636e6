"""How the holder of a tracking link proves to be the order's customer before the page shows
the pickup code, and how their device remembers it. Pure.

The proof is something the customer knows and a forwarded link does not carry: the last four
digits of the phone number on the order, or its e-mail address (any case), typed once. An
order with neither cannot be proven on the page: its customer shows an ID at the counter.

The device remembers a right answer with a pass (a cookie's value): ``<expiry>.<mac>``, an
HMAC of the order's id and the expiry under the server's secret. It opens that order only, it
cannot be forged or stretched without the secret, and it says nothing of the answer.

Wrong answers are limited per order (:data:`WRONG_ANSWERS`), so that the ten thousand endings
of a phone number cannot be tried one after the other: each answer is counted before it is
checked, and a right one gives its attempt back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from enum import StrEnum

from comptoir.attempts import FixedWindow, Subject
from comptoir.errors import InvalidInput

__all__ = [
    "PASS_LIFETIME_SECONDS",
    "WRONG_ANSWERS",
    "Proof",
    "accepted_proofs",
    "answer_matches",
    "device_pass",
    "pass_key",
    "pass_opens",
    "proof_subject",
    "read_answer",
]

PHONE_DIGITS = 4
# A pickup waits a week or two; a pass outlives it, so the link keeps working on that device.
PASS_LIFETIME_SECONDS = 60 * 24 * 3600
_SEPARATORS = re.compile(r"[\s.\-]")
# Five wrong answers a day: over a pickup's life (two weeks at most) a guesser tries 70 of the
# 10,000 phone endings (0.7 %), while a customer who mistypes still gets in.
WRONG_ANSWERS = FixedWindow(free=5, memory=24 * 3600)


class Proof(StrEnum):
    PHONE = "phone"  # the last four digits of the order's phone number
    EMAIL = "email"  # the order's e-mail address


def _digits(phone: str | None) -> str:
    return "".join(c for c in phone or "" if c.isdigit())


def accepted_proofs(phone: str | None, email: str | None) -> tuple[Proof, ...]:
    """What the customer of an order with this phone and e-mail may answer (maybe nothing)."""
    proofs = []
    if len(_digits(phone)) >= PHONE_DIGITS:
        proofs.append(Proof.PHONE)
    if email and email.strip():
        proofs.append(Proof.EMAIL)
    return tuple(proofs)


def read_answer(answer: str) -> tuple[Proof, str]:
    """What was typed: an e-mail address (it has an ``@``), or four digits (spaces, dots and
    dashes ignored). Anything else is refused before it counts as an attempt."""
    typed = answer.strip()
    if "@" in typed:
        return Proof.EMAIL, typed.lower()
    digits = _SEPARATORS.sub("", typed)
    if len(digits) == PHONE_DIGITS and digits.isascii() and digits.isdigit():
        return Proof.PHONE, digits
    raise InvalidInput(
        "Type the last four digits of the phone number or the e-mail address given with the "
        "order.", code="unreadable_proof")


def proof_subject(order_id: uuid.UUID) -> Subject:
    """What an answer about this order is counted against."""
    return Subject(f"proof:{order_id}", WRONG_ANSWERS)


def answer_matches(proof: Proof, value: str, phone: str | None, email: str | None) -> bool:
    """Whether a read answer is the order's; compared in constant time."""
    if proof not in accepted_proofs(phone, email):
        return False
    expected = (_digits(phone)[-PHONE_DIGITS:] if proof is Proof.PHONE
                else (email or "").strip().lower())
    return hmac.compare_digest(value.encode(), expected.encode())


def pass_key(secret_key: str) -> bytes:
    """The key of device passes, derived from the server's secret (used for nothing else)."""
    return hmac.new(secret_key.encode(), b"comptoir/tracking/pickup-code-pass",
                    hashlib.sha256).digest()


def _mac(key: bytes, order_id: uuid.UUID, expires: int) -> str:
    return hmac.new(key, f"{order_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def device_pass(key: bytes, order_id: uuid.UUID, now: int) -> str:
    """The pass a device keeps after a right answer: it opens this order until it expires."""
    expires = now + PASS_LIFETIME_SECONDS
    return f"{expires}.{_mac(key, order_id, expires)}"


def pass_opens(key: bytes, order_id: uuid.UUID, value: str | None, now: int) -> bool:
    """Whether a device's pass is one this server made for this order, and not expired."""
    expires, _, mac = (value or "").partition(".")
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12 or int(expires) <= now:
        return False
    return hmac.compare_digest(mac.encode(), _mac(key, order_id, int(expires)).encode())
