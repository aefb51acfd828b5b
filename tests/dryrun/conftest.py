"""Dry-run tests run on SQLite and on a real PostgreSQL (tests/directory/conftest.py)."""

from tests.directory.conftest import backend, clock, database_url, keys, postgres  # noqa: F401 (fixtures)
