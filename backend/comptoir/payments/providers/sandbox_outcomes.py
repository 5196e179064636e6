"""The sandbox's decisions, pure: what happens to an operation is decided by the card token
of its authorization alone, the same in this process and in the bank process.

Tokens
------

An order captured with ``"payment": {"provider": "sandbox", "token": "tok_…", …}`` is
authorized with that token; what happens to it, and to the captures, voids and refunds made
on that authorization later, is decided by the token alone:

======================== ====================================== ==============================
token                    authorization                          capture, void, refund on it
======================== ====================================== ==============================
``tok_ok``, any other    succeeded                              succeeded
``tok_…``
``tok_declined``         failed ``card_declined``               failed ``authorization_failed``
``tok_insufficient``     failed ``insufficient_funds``          failed ``authorization_failed``
``tok_slow``             succeeded, answered after              succeeded, answered after
                         ``slow_seconds``                       ``slow_seconds``
``tok_timeout``          performed at the first ask, but the    the same
                         first N answers are lost
                         (``ProviderUnavailable``); ask N+1
                         gets succeeded
``tok_webhook``          pending; succeeded by webhook          pending; succeeded by webhook
``tok_webhook_declined`` pending; failed ``card_declined`` by   failed ``authorization_failed``
                         webhook
======================== ====================================== ==============================

N is ``timeout_attempts`` (``COMPTOIR_SANDBOX_TIMEOUT_ATTEMPTS``, 2) and ``slow_seconds``
``COMPTOIR_SANDBOX_SLOW_SECONDS`` (3): a lost answer is what a real timeout leaves behind
(the bank did it, Comptoir did not hear), so the outbox's retry with the same key is the
case exercised, and it must get the first answer back, not a second charge.

How the token travels: an authorization's reference is ``sbx_auth_<behaviour>_<16 hex>``
(``sbx_auth_timeout_3f2a…``), and the captures, voids and refunds name it as their
``source``; so every decision is a pure function of the call (``outcome``), the same in
this process and in the bank process. An authorization whose source is already such a
reference (one the shop made itself with the sandbox) is adopted with that reference.
Any other source fails: ``invalid_token`` for an authorization, ``authorization_unknown``
for the others. References of the other operations are ``sbx_cap_…``, ``sbx_void_…``,
``sbx_ref_…``; all are derived from the idempotency key, so a repeat names the same one.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from comptoir.payments.providers.base import Answer, Operation, ProviderCall

__all__ = ["AUTH_PREFIX", "REFUSED_AUTHORIZATIONS", "Behaviour", "behaviour_of", "outcome"]

AUTH_PREFIX = "sbx_auth_"
_PREFIXES = {Operation.CAPTURE: "sbx_cap_", Operation.VOID: "sbx_void_",
             Operation.REFUND: "sbx_ref_"}


class Behaviour(StrEnum):
    """What a token does (the table in this module's docstring)."""

    OK = "ok"
    DECLINED = "declined"
    INSUFFICIENT = "insufficient"
    SLOW = "slow"
    TIMEOUT = "timeout"
    WEBHOOK = "webhook"
    WEBHOOK_DECLINED = "webhook_declined"


_NAMES = frozenset(b.value for b in Behaviour)
REFUSED_AUTHORIZATIONS = {
    Behaviour.DECLINED: ("card_declined", "The card was declined."),
    Behaviour.INSUFFICIENT: ("insufficient_funds", "The card has insufficient funds."),
    Behaviour.WEBHOOK_DECLINED: ("card_declined", "The card was declined."),
}


def behaviour_of(call: ProviderCall) -> Behaviour | None:
    """The behaviour the call's source carries; None when the source is no sandbox token
    (nor, for an authorization, a sandbox authorization's reference)."""
    source = call.source
    if call.operation is Operation.AUTHORIZE and source.startswith("tok_"):
        name = source.removeprefix("tok_")
        return Behaviour(name) if name in _NAMES else Behaviour.OK
    if source.startswith(AUTH_PREFIX):
        name = source.removeprefix(AUTH_PREFIX).rpartition("_")[0]
        if name in _NAMES:
            return Behaviour(name)
    return None


def _reference(call: ProviderCall, behaviour: Behaviour) -> str:
    digest = hashlib.sha256(call.idempotency_key.encode()).hexdigest()[:16]
    if call.operation is Operation.AUTHORIZE:
        if call.source.startswith(AUTH_PREFIX):
            return call.source  # the shop's own sandbox authorization, adopted
        return f"{AUTH_PREFIX}{behaviour.value}_{digest}"
    return f"{_PREFIXES[call.operation]}{digest}"


def outcome(call: ProviderCall) -> Answer:
    """The answer the bank gives the first time it is asked ``call`` (pure)."""
    behaviour = behaviour_of(call)
    if behaviour is None:
        if call.operation is Operation.AUTHORIZE:
            return Answer(status="failed", failure_code="invalid_token",
                          message=f"{call.source!r} is no sandbox card token (tok_…).")
        return Answer(status="failed", failure_code="authorization_unknown",
                      message=f"{call.source!r} is no sandbox authorization.")
    reference = _reference(call, behaviour)
    refused = REFUSED_AUTHORIZATIONS.get(behaviour)
    if call.operation is Operation.AUTHORIZE:
        if behaviour in (Behaviour.WEBHOOK, Behaviour.WEBHOOK_DECLINED):
            return Answer(status="pending", reference=reference)
        if refused is not None:
            return Answer(status="failed", reference=reference, failure_code=refused[0],
                          message=refused[1])
        return Answer(status="succeeded", reference=reference)
    if refused is not None:
        return Answer(status="failed", reference=reference, failure_code="authorization_failed",
                      message="The authorization this draws on failed.")
    if behaviour is Behaviour.WEBHOOK:
        return Answer(status="pending", reference=reference)
    return Answer(status="succeeded", reference=reference)
