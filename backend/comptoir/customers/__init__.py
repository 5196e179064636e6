"""Customers: matched by e-mail when an order is captured, with their orders and totals."""
