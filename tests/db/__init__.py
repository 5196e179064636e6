"""Database engine and migration tests."""
