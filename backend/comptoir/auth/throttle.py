"""How many sign-in attempts a client may make, and how long it waits once it has made them.

The rule (after OWASP's Authentication Cheat Sheet: throttle, do not lock the account):

- Attempts are counted per *subject*: an account from one client address, and a client
  address whatever account it tries. A password is checked only once the attempt has been
  counted against both, in one atomic step (:mod:`comptoir.attempts`), so simultaneous
  guesses cannot all slip under the limit.
- A subject has ``free`` attempts, then growing waits (:class:`~comptoir.attempts.GrowingWaits`):
  an attempt during a wait is refused (429 with ``Retry-After``) without its password being
  checked, and nobody is ever locked out for good.
- Nothing is kept for an account as such: guesses from one address never slow down the
  account's owner signing in from another. A correct password clears its (account,
  address) subject and gives the address its attempt back (and the wait it opened, if the
  address is back under its free attempts).
"""

from __future__ import annotations

import hashlib
import ipaddress

from comptoir.attempts import GrowingWaits, Subject

__all__ = ["ACCOUNT_FROM_ADDRESS", "ADDRESS", "client_network", "subjects_for"]

# An owner mistyping a password does not reach ten; a guesser gets ten, then waits 2 s,
# 4 s, 8 s… (every attempt doubles the next wait), and soon four attempts an hour.
ACCOUNT_FROM_ADDRESS = GrowingWaits(free=10, base_delay=2.0, max_delay=900.0, memory=3600.0)
# A shop's staff share one address behind its router: only failures from it count (see
# ``Subject.cleared_by_success``), and it takes many before the whole shop waits.
ADDRESS = GrowingWaits(free=50, base_delay=2.0, max_delay=900.0, memory=3600.0)


def client_network(address: str) -> str:
    """The client address as counted: an IPv6 address by its /64 (one subscriber's network:
    changing the host part is free), an IPv4 address as it is, anything else as given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def subjects_for(username: str, address: str) -> tuple[Subject, Subject]:
    """The subjects a sign-in as ``username`` from ``address`` is counted against."""
    network = client_network(address)
    # A digest: usernames are case-insensitive here and may be long or odd.
    account = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return (
        Subject(f"addr:{network}", ADDRESS),
        Subject(f"acct:{account}:{network}", ACCOUNT_FROM_ADDRESS, cleared_by_success=True),
    )
