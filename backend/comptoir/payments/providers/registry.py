"""The payment providers this process can call, from its settings."""

from __future__ import annotations

from comptoir.payments.providers.base import PaymentProvider
from comptoir.payments.providers.external import ExternalProvider
from comptoir.payments.providers.sandbox import sandbox_provider
from comptoir.payments.providers.stripe import stripe_provider
from comptoir.settings import Settings

__all__ = ["configured_providers"]


def configured_providers(settings: Settings) -> dict[str, PaymentProvider]:
    """Every provider the settings make available, by name: the sandbox always (the demo's),
    ``external`` always (it records what a channel that took the money carries out), Stripe
    with a secret key."""
    providers: dict[str, PaymentProvider] = {"sandbox": sandbox_provider(settings),
                                             "external": ExternalProvider()}
    stripe = stripe_provider(settings)
    if stripe is not None:
        providers["stripe"] = stripe
    return providers
