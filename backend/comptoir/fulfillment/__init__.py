"""Fulfillment: the work of each location on an order (pick, pack, ship, pickup)."""
