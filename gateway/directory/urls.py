"""The directory's database URL: a SQLite file path or URL, or a PostgreSQL URL (stdlib only).

Config validation calls `database_url` without importing SQLAlchemy, so
`check-config` stays fast. Messages never include the URL itself: a
PostgreSQL URL carries a password.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

SQLITE = "sqlite+aiosqlite"
POSTGRESQL = "postgresql+asyncpg"
_SQLITE_SCHEMES = frozenset({"sqlite", SQLITE})
_POSTGRESQL_SCHEMES = frozenset({"postgresql", "postgres", POSTGRESQL})


def database_url(value: str) -> str:
    """The async-driver URL for a configured value; raises ValueError (without the value).

    A value without a scheme is a SQLite file path (relative paths are relative
    to the working directory). `sqlite:` and `postgresql:`/`postgres:` URLs get
    the async drivers the gateway uses (aiosqlite, asyncpg); other schemes are refused.
    """
    if "://" not in value:
        if not value.strip():
            raise ValueError("expected a SQLite file path or a database URL")
        return f"{SQLITE}:///{Path(value).expanduser()}"
    scheme, _, rest = value.partition("://")
    if scheme in _SQLITE_SCHEMES:
        if rest in ("", "/") or ":memory:" in rest:
            raise ValueError("a SQLite directory needs a file path (an in-memory database is lost on restart)")
        return f"{SQLITE}://{rest}"
    if scheme in _POSTGRESQL_SCHEMES:
        if not urlsplit(value).hostname and "host=" not in value:
            raise ValueError("a PostgreSQL URL needs a host: postgresql://user:password@host:5432/database")
        return f"{POSTGRESQL}://{rest}"
    raise ValueError("the database URL must be sqlite:///<path> or postgresql://user:password@host/database")


def is_postgresql(url: str) -> bool:
    """True for a URL returned by `database_url` that names PostgreSQL."""
    return url.startswith(f"{POSTGRESQL}://")


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL returned by `database_url`; None for PostgreSQL."""
    prefix = f"{SQLITE}:///"
    if not url.startswith(prefix):
        return None
    return Path(url.removeprefix(prefix).split("?", 1)[0])
