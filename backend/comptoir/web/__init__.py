"""Serving the built PWA, with a history fallback for its routes."""
