"""Fraud screening of a captured order: a score made of the rules it trips. Pure, no I/O.

``score(facts, rules)`` looks at one order (``Facts``: what it is, and what capture read of
its customer's history) through a channel's rules and returns a ``FraudScore``: its points
and one ``Reason`` per rule that fired. The specification:

* every active rule of the channel (and every rule for all channels) is checked on its own;
  a rule that fires adds its ``points`` (never negative) and a reason saying why, with the
  figures that made it fire; the score is the sum of the reasons' points, so turning a rule
  off never raises it;
* ``amount_over``: the order's total is over ``amount`` (minor units of its currency);
* ``new_customer_amount_over``: no earlier order from this e-mail, and the total is over
  ``amount``;
* ``countries_differ``: the billing country the shop sent is not the delivery country
  (pickups are delivered in the store's country); no billing country, no reason;
* ``velocity_email``, ``velocity_phone``, ``velocity_address``: with this one, ``count``
  orders or more from the same e-mail, phone or delivery address within ``minutes``;
* ``watched_postcode``: the delivery or billing postal code is on the list ``values``
  (compared without spaces, in capitals; an entry ending in ``*`` is a prefix: ``75*``);
* ``watched_email_domain``: the e-mail's domain is on the list, or under one of its domains
  (``example.com`` also watches ``mail.example.com``), compared in lower case;
* ``many_cards``: with this order's card, the customer's orders used ``count`` distinct
  cards or more (within ``minutes``, when the rule says so);
* capture counts earlier orders (or cards) only as far as the rules need: a reason's
  ``count`` is the rule's figure when there were more;
* a rule that lacks a figure it needs (a velocity rule without ``minutes``) never fires;
  the admin refuses to save one (``check_rule``);
* ``FraudScore.holds(threshold)``: the order is held when its points are over the
  channel's threshold; no threshold (None): screening is off, never held.

A reason is a code (the rule's kind) and typed parameters; ``text`` says it in French or in
English when it is read, so what is stored stays a fact, not a sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import msgspec

from comptoir.money import format_money

__all__ = [
    "HISTORY_KINDS",
    "VELOCITY_KINDS",
    "Facts",
    "FraudScore",
    "History",
    "Locale",
    "Reason",
    "Rule",
    "RuleKind",
    "Screening",
    "Window",
    "check_rule",
    "loaded",
    "score",
    "stored",
    "text",
    "windows",
]

Locale = Literal["fr", "en"]


class RuleKind(StrEnum):
    """Every kind of rule, and the code of the reason it gives (the admin's choices)."""

    AMOUNT_OVER = "amount_over"  # amount
    NEW_CUSTOMER_AMOUNT_OVER = "new_customer_amount_over"  # amount
    COUNTRIES_DIFFER = "countries_differ"
    VELOCITY_EMAIL = "velocity_email"  # count, minutes
    VELOCITY_PHONE = "velocity_phone"  # count, minutes
    VELOCITY_ADDRESS = "velocity_address"  # count, minutes
    WATCHED_POSTCODE = "watched_postcode"  # values
    WATCHED_EMAIL_DOMAIN = "watched_email_domain"  # values
    MANY_CARDS = "many_cards"  # count, minutes (optional)


K = RuleKind
VELOCITY_KINDS = frozenset({K.VELOCITY_EMAIL, K.VELOCITY_PHONE, K.VELOCITY_ADDRESS})
# The kinds that need capture to read the customer's history (the rest read nothing).
HISTORY_KINDS = VELOCITY_KINDS | {K.NEW_CUSTOMER_AMOUNT_OVER, K.MANY_CARDS}

# What each kind needs to be checked, beside its points.
_NEEDS: dict[RuleKind, tuple[str, ...]] = {
    K.AMOUNT_OVER: ("amount",),
    K.NEW_CUSTOMER_AMOUNT_OVER: ("amount",),
    K.COUNTRIES_DIFFER: (),
    K.VELOCITY_EMAIL: ("count", "minutes"),
    K.VELOCITY_PHONE: ("count", "minutes"),
    K.VELOCITY_ADDRESS: ("count", "minutes"),
    K.WATCHED_POSTCODE: ("values",),
    K.WATCHED_EMAIL_DOMAIN: ("values",),
    K.MANY_CARDS: ("count",),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule as configured (``config.models.FraudRule``): only the figures its kind uses
    matter. ``values``: the watch list, entries as typed."""

    kind: RuleKind
    points: int
    amount: int | None = None
    minutes: int | None = None
    count: int | None = None
    values: tuple[str, ...] = ()


def check_rule(rule: Rule) -> str | None:
    """What is wrong with a rule, in a sentence for the admin; None when it can be checked."""
    if rule.points < 0:
        return "A rule's points cannot be negative."
    for name in _NEEDS[rule.kind]:
        value = getattr(rule, name)
        if name == "values":
            if not any(entry.strip() for entry in value):
                return f"A {rule.kind.value} rule needs a list of values (comma-separated)."
        elif value is None:
            return f"A {rule.kind.value} rule needs '{name}'."
        elif value < (0 if name == "amount" else 1):
            return f"A {rule.kind.value} rule's '{name}' must be at least " \
                   f"{0 if name == 'amount' else 1}."
    return None


@dataclass(frozen=True, slots=True)
class Window:
    """What a history rule counts: orders by the same e-mail, phone or address, or the
    customer's cards, within ``minutes`` (None: ever)."""

    kind: RuleKind
    minutes: int | None


def windows(rules: Iterable[Rule]) -> tuple[Window, ...]:
    """The counts capture must read for ``rules`` (none for rules that read nothing)."""
    wanted = {Window(rule.kind, rule.minutes) for rule in rules
              if rule.kind in VELOCITY_KINDS | {K.MANY_CARDS} and check_rule(rule) is None}
    return tuple(sorted(wanted, key=lambda w: (w.kind.value, w.minutes or 0)))


@dataclass(frozen=True, slots=True)
class History:
    """What capture read of the customer's earlier orders, for the rules that need it.

    ``earlier_orders``: orders from this e-mail before this one (None: not read);
    ``counts``: per ``Window``, earlier orders by the same e-mail, phone or address (velocity
    kinds), or the distinct cards of the customer's earlier orders, this order's included
    (``many_cards``)."""

    earlier_orders: int | None = None
    counts: Mapping[Window, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Facts:
    """One order as the rules see it. Countries are ISO codes in capitals; ``email`` lower
    case; postal codes as sent."""

    total: int
    currency: str
    email: str | None
    shipping_country: str
    billing_country: str | None = None
    shipping_postal_code: str | None = None
    billing_postal_code: str | None = None
    history: History = History()


@dataclass(frozen=True, slots=True)
class Screening:
    """What an order is screened with: its channel's threshold and rules, and the history
    those rules asked capture to read."""

    threshold: int
    rules: tuple[Rule, ...]
    history: History = History()


class Reason(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Why a rule fired: its code and points, and the figures its sentence needs."""

    code: RuleKind
    points: int
    amount: int | None = None  # the order's total, minor units of ``currency``
    threshold: int | None = None  # the rule's amount
    currency: str | None = None
    count: int | None = None  # orders (this one included), or distinct cards
    limit: int | None = None  # the rule's count
    minutes: int | None = None
    value: str | None = None  # the matched postal code or e-mail domain
    billing_country: str | None = None
    shipping_country: str | None = None


class FraudScore(msgspec.Struct, frozen=True, kw_only=True):
    points: int
    reasons: tuple[Reason, ...] = ()

    def holds(self, threshold: int | None) -> bool:
        """Over the channel's threshold: hold the order. None: screening off."""
        return threshold is not None and self.points > threshold


def score(facts: Facts, rules: Sequence[Rule]) -> FraudScore:
    """The order's score under ``rules``: one reason per rule that fires, in rule order."""
    reasons = [reason for rule in rules if check_rule(rule) is None
               for reason in [_fired(rule, facts)] if reason is not None]
    return FraudScore(points=sum(r.points for r in reasons), reasons=tuple(reasons))


def _fired(rule: Rule, facts: Facts) -> Reason | None:
    kind, points = rule.kind, rule.points
    if kind in (K.AMOUNT_OVER, K.NEW_CUSTOMER_AMOUNT_OVER):
        assert rule.amount is not None
        if kind is K.NEW_CUSTOMER_AMOUNT_OVER and facts.history.earlier_orders != 0:
            return None
        if facts.total <= rule.amount:
            return None
        return Reason(code=kind, points=points, amount=facts.total, threshold=rule.amount,
                      currency=facts.currency)
    if kind is K.COUNTRIES_DIFFER:
        billing = facts.billing_country
        if billing is None or billing == facts.shipping_country:
            return None
        return Reason(code=kind, points=points, billing_country=billing,
                      shipping_country=facts.shipping_country)
    if kind in VELOCITY_KINDS or kind is K.MANY_CARDS:
        assert rule.count is not None
        counted = facts.history.counts.get(Window(kind, rule.minutes))
        if counted is None:
            return None
        total = counted if kind is K.MANY_CARDS else counted + 1  # this order too
        if total < rule.count:
            return None
        return Reason(code=kind, points=points, count=total, limit=rule.count,
                      minutes=rule.minutes)
    if kind is K.WATCHED_POSTCODE:
        matched = _watched_postcode(rule.values, (facts.shipping_postal_code,
                                                  facts.billing_postal_code))
        return None if matched is None else Reason(code=kind, points=points, value=matched)
    if kind is K.WATCHED_EMAIL_DOMAIN:
        matched = _watched_domain(rule.values, facts.email)
        return None if matched is None else Reason(code=kind, points=points, value=matched)
    raise AssertionError(kind)


def _postcode(value: str) -> str:
    return "".join(value.split()).upper()


def _watched_postcode(entries: Iterable[str], codes: Iterable[str | None]) -> str | None:
    watched = [_postcode(entry) for entry in entries if entry.strip()]
    for code in codes:
        if not code or not _postcode(code):
            continue
        given = _postcode(code)
        for entry in watched:
            if given == entry or (entry.endswith("*") and given.startswith(entry[:-1])):
                return given
    return None


def _watched_domain(entries: Iterable[str], email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    domain = email.rpartition("@")[2].strip().lower()
    for entry in entries:
        watched = entry.strip().lower().lstrip("@")
        if watched and (domain == watched or domain.endswith("." + watched)):
            return domain
    return None


# --- stored and read ----------------------------------------------------------------------


def stored(reasons: Iterable[Reason]) -> list[dict[str, object]]:
    """The reasons as the order's JSON column holds them."""
    return [msgspec.to_builtins(reason) for reason in reasons]


def loaded(value: object) -> list[Reason]:
    """The stored reasons; any that no longer reads as one is left out."""
    if not isinstance(value, list):
        return []
    reasons = []
    for item in value:
        try:
            reasons.append(msgspec.convert(item, Reason))
        except msgspec.ValidationError:
            continue
    return reasons


# --- in words -----------------------------------------------------------------------------


def _money(reason: Reason, minor: int | None, locale: Locale) -> str:
    return format_money(minor or 0, reason.currency or "EUR", locale)


def _window(minutes: int | None, locale: Locale) -> str:
    if minutes is None:
        return ""
    return f" en {minutes} min" if locale == "fr" else f" within {minutes} min"


_TEXT: dict[RuleKind, dict[Locale, str]] = {
    K.AMOUNT_OVER: {"fr": "Montant de {amount} au-dessus de {threshold}",
                    "en": "Amount of {amount} over {threshold}"},
    K.NEW_CUSTOMER_AMOUNT_OVER: {
        "fr": "Nouveau client, montant de {amount} au-dessus de {threshold}",
        "en": "New customer, amount of {amount} over {threshold}"},
    K.COUNTRIES_DIFFER: {
        "fr": "Pays de facturation ({billing}) différent du pays de livraison ({shipping})",
        "en": "Billing country ({billing}) differs from the delivery country ({shipping})"},
    K.VELOCITY_EMAIL: {"fr": "{count} commandes avec le même e-mail{window}",
                       "en": "{count} orders from the same e-mail{window}"},
    K.VELOCITY_PHONE: {"fr": "{count} commandes avec le même téléphone{window}",
                       "en": "{count} orders from the same phone{window}"},
    K.VELOCITY_ADDRESS: {"fr": "{count} commandes vers la même adresse{window}",
                         "en": "{count} orders to the same address{window}"},
    K.WATCHED_POSTCODE: {"fr": "Code postal surveillé : {value}",
                         "en": "Watched postal code: {value}"},
    K.WATCHED_EMAIL_DOMAIN: {"fr": "Domaine d'e-mail surveillé : {value}",
                             "en": "Watched e-mail domain: {value}"},
    K.MANY_CARDS: {"fr": "{count} cartes différentes pour ce client{window}",
                   "en": "{count} different cards for this customer{window}"},
}


def text(reason: Reason, locale: Locale) -> str:
    """The reason as a manager reads it, in French or English (its points apart)."""
    return _TEXT[reason.code][locale].format(
        amount=_money(reason, reason.amount, locale),
        threshold=_money(reason, reason.threshold, locale),
        billing=reason.billing_country or "?", shipping=reason.shipping_country or "?",
        count=reason.count or 0, window=_window(reason.minutes, locale),
        value=reason.value or "")
