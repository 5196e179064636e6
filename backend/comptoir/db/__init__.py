"""SQLAlchemy base, engines and sessions for Comptoir's operational data."""

from comptoir.db.base import Base, utcnow
from comptoir.db.engine import create_engine, is_postgres

__all__ = ["Base", "create_engine", "is_postgres", "utcnow"]
