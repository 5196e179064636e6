"""What the customer reads: language choice, status and event wording, money and dates. Pure."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from comptoir.events.types import REGISTRY, Words
from comptoir.money import format_money

__all__ = [
    "LOCALES",
    "Locale",
    "event_label",
    "format_date",
    "format_money",
    "negotiate",
    "shown_to_customer",
    "status_label",
    "text",
]

Locale = Literal["fr", "en"]
LOCALES: tuple[Locale, ...] = ("fr", "en")
DEFAULT_LOCALE: Locale = "fr"


def negotiate(accept_language: str | None) -> Locale:
    """French or English, whichever the browser prefers (``Accept-Language``); French if neither."""
    best: tuple[float, int] | None = None
    chosen: Locale = DEFAULT_LOCALE
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        if language not in LOCALES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        # Higher quality wins; at equal quality the one listed first.
        rank = (quality, -position)
        if best is None or rank > best:
            best, chosen = rank, language
    return chosen


# The order's status in the customer's words. A hold, whatever its reason, is "being checked".
_STATUS: dict[str, dict[Locale, str]] = {
    # Accepted, its items set aside; no store or warehouse can start on it today.
    "awaiting_capacity": {"fr": "Commande confirmée, en attente de préparation",
                          "en": "Order confirmed, waiting to be prepared"},
    "confirmed": {"fr": "Commande confirmée", "en": "Order confirmed"},
    "on_hold": {"fr": "En cours de vérification", "en": "Being checked"},
    "cancelled": {"fr": "Annulée", "en": "Cancelled"},
    "in_fulfillment": {"fr": "En préparation", "en": "Being prepared"},
    "ready_for_pickup": {"fr": "Prête à retirer", "en": "Ready for pickup"},
    "partially_shipped": {"fr": "Expédiée en partie", "en": "Partly shipped"},
    "shipped": {"fr": "Expédiée", "en": "Shipped"},
    "completed:pickup": {"fr": "Retirée", "en": "Collected"},
    "completed:ship": {"fr": "Livrée", "en": "Delivered"},
}
_STATUS_FALLBACK: dict[Locale, str] = {"fr": "En cours", "en": "In progress"}


def status_label(status: str, delivery_method: str, locale: Locale) -> str:
    key = f"{status}:{delivery_method}" if status == "completed" else status
    return _STATUS.get(key, _STATUS_FALLBACK)[locale]


# Events the customer sees on their timeline, in the registry's words (events/types.py). Any
# other type (staff notes, a store passing the work on, reminders) is left out: a type without
# customer words is never shown.
_EVENTS: dict[str, Words] = {
    type.value: spec.customer for type, spec in REGISTRY.items() if spec.customer is not None
}


def event_label(event_type: str, locale: Locale) -> str | None:
    """The customer's words for an event, or None when the customer does not see it."""
    words = _EVENTS.get(event_type)
    return words[locale] if words is not None else None


def shown_to_customer(event_type: str) -> bool:
    return event_type in _EVENTS


_TEXT: dict[str, dict[Locale, str]] = {
    "title": {"fr": "Suivi de commande", "en": "Order tracking"},
    "order": {"fr": "Commande", "en": "Order"},
    "items": {"fr": "Articles", "en": "Items"},
    "quantity": {"fr": "Qté", "en": "Qty"},
    "shipping": {"fr": "Livraison", "en": "Shipping"},
    "total": {"fr": "Total", "en": "Total"},
    "ship_to": {"fr": "Livraison à", "en": "Delivery to"},
    "pickup_at": {"fr": "Retrait en magasin", "en": "Pickup in store"},
    "opening_hours": {"fr": "Horaires", "en": "Opening hours"},
    "pickup_code": {"fr": "Code de retrait", "en": "Pickup code"},
    "pickup_hint": {"fr": "Présentez ce code au comptoir.", "en": "Show this code at the counter."},
    "timeline": {"fr": "Historique", "en": "History"},
    "live": {"fr": "Mise à jour en direct", "en": "Live updates"},
    "offline": {"fr": "Hors ligne, reconnexion…", "en": "Offline, reconnecting…"},
    "cancelled_units": {"fr": "annulé(s)", "en": "cancelled"},
    "not_found": {"fr": "Page introuvable", "en": "Page not found"},
    "im_here": {"fr": "Je suis arrivé·e", "en": "I'm here"},
    "im_here_hint": {"fr": "Vous êtes au magasin ? Prévenez l'équipe, elle prépare votre retrait.",
                     "en": "At the store? Let the team know and they will bring your order."},
    "arrived": {"fr": "Le magasin est prévenu de votre arrivée.",
                "en": "The store knows you are here."},
    "not_ready": {"fr": "Votre commande n'est pas encore prête à retirer.",
                  "en": "Your order is not ready for pickup yet."},
    "try_again": {"fr": "Cela n'a pas fonctionné, réessayez.",
                  "en": "That did not work, please try again."},
    # The pickup code, shown once the device proved it is the customer's (tracking/proof.py).
    "pickup_locked": {"fr": "Pour afficher votre code de retrait sur cet appareil, "
                            "confirmez que c'est bien vous.",
                      "en": "To show your pickup code on this device, confirm it is you."},
    "proof_label_phone_email": {"fr": "Les 4 derniers chiffres de votre téléphone, "
                                      "ou votre adresse e-mail",
                                "en": "The last 4 digits of your phone number, "
                                      "or your e-mail address"},
    "proof_label_phone": {"fr": "Les 4 derniers chiffres de votre téléphone",
                          "en": "The last 4 digits of your phone number"},
    "proof_label_email": {"fr": "Votre adresse e-mail", "en": "Your e-mail address"},
    "proof_submit": {"fr": "Afficher le code", "en": "Show the code"},
    "proof_remembered": {"fr": "Cet appareil s'en souviendra pour cette commande.",
                         "en": "This device will remember it for this order."},
    "proof_in_email": {"fr": "Le code est aussi dans l'e-mail envoyé quand la commande est "
                             "prête.",
                       "en": "The code is also in the e-mail sent when your order is ready."},
    "proof_wrong": {"fr": "Ce n'est pas ce que nous avons pour cette commande.",
                    "en": "That does not match this order."},
    "proof_left": {"fr": "Essais restants : {n}.", "en": "Tries left: {n}."},
    "proof_too_many": {"fr": "Trop d'essais. Réessayez plus tard, utilisez le code de l'e-mail "
                             "« commande prête », ou présentez une pièce d'identité au comptoir.",
                       "en": "Too many tries. Try again later, use the code in the "
                             "\u201cready for pickup\u201d e-mail, or show an ID at the counter."},
    "proof_unreadable": {"fr": "Tapez les 4 derniers chiffres de votre téléphone ou votre "
                               "adresse e-mail.",
                         "en": "Type the last 4 digits of your phone number or your e-mail "
                               "address."},
    "pickup_at_counter": {"fr": "Au comptoir, donnez le numéro de la commande et présentez une "
                                "pièce d'identité : l'équipe vous la remettra.",
                          "en": "At the counter, give the order number and show an ID: the "
                                "team will hand it to you."},
}


def text(key: str, locale: Locale) -> str:
    return _TEXT[key][locale]


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(moment: dt.datetime, timezone: str, locale: Locale) -> str:
    """A moment in the store's time zone: ``26/11/2026 17:05`` or ``26 Nov 2026, 17:05``."""
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError, OSError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    if locale == "fr":
        return local.strftime("%d/%m/%Y %H:%M")
    return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M}"
