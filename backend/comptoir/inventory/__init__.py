"""Stock per SKU and location, its movement ledger, and reservations."""
