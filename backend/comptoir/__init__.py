"""Comptoir: an open-source order management system for omnichannel retail."""

__version__ = "0.1.0"
