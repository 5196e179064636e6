"""Staff sessions, API keys and the guard that makes every endpoint say who may call it."""
