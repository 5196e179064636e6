"""Tests with several real Comptoir processes on one PostgreSQL and Redis."""
