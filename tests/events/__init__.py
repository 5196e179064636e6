"""Event log and outbox tests."""
