"""Catalog endpoints (to be completed)."""

from litestar import Controller


class CatalogController(Controller):
    path = "/api"
