"""The payment providers this process can call, from its settings."""

from __future__ import annotations

from comptoir.payments.providers.base import PaymentProvider
from comptoir.settings import Settings

__all__ = ["configured_providers"]


def configured_providers(settings: Settings) -> dict[str, PaymentProvider]:
    """Every provider the settings make available, by name (``external`` is never called:
    the channel took the money)."""
    providers: dict[str, PaymentProvider] = {}
    return providers
