"""The append-only event log and the transactional outbox."""
