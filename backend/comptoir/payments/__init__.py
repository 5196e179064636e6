"""Payments: authorizations, captures, voids and refunds of an order, through providers."""
