"""Configuration: Piccolo tables edited in piccolo-admin (locations, channels, tax, staff…)."""
