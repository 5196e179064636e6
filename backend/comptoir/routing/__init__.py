"""Routing: which locations serve an order, and why."""
