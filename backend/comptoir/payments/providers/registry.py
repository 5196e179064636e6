"""The payment providers this process can call, from its settings."""

from __future__ import annotations

from comptoir.payments.providers.base import PaymentProvider
from comptoir.payments.providers.sandbox import sandbox_provider
from comptoir.payments.providers.stripe import stripe_provider
from comptoir.settings import Settings

__all__ = ["configured_providers"]


def configured_providers(settings: Settings) -> dict[str, PaymentProvider]:
    """Every provider the settings make available, by name: the sandbox always (the demo's),
    Stripe with a secret key. ``external`` is never called: the channel took the money."""
    providers: dict[str, PaymentProvider] = {"sandbox": sandbox_provider(settings)}
    stripe = stripe_provider(settings)
    if stripe is not None:
        providers["stripe"] = stripe
    return providers
