"""Reconciliation tests run on SQLite and PostgreSQL too: the directory's fixtures (tests/directory/conftest.py)."""

from tests.directory.conftest import backend, clock, database_url, directory, keys, postgres

__all__ = ["backend", "clock", "database_url", "directory", "keys", "postgres"]
