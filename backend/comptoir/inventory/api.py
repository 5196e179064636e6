"""Inventory endpoints (to be completed)."""

from litestar import Controller


class InventoryController(Controller):
    path = "/api/inventory"
