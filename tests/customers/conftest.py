"""Customer tests use the shared fixtures of tests/conftest.py and tests/orders/conftest.py."""
