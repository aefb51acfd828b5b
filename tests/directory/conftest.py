"""Every directory test runs on SQLite and on a real PostgreSQL server (started once per session)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from benchmarks.postgres import PostgresServer, PostgresUnavailable, postgres_server
from gateway.clock import FakeClock
from gateway.config import DirectoryConfig, DirectoryEncryptionConfig
from gateway.directory.keys import generate_key
from gateway.directory.store import Directory, open_directory

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        with postgres_server() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))  # never a skip: the directory must be proven on PostgreSQL


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """An empty database of the backend under test."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'directory.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    async with server.database() as url:
        yield url


def directory_config(url: str, keys: list[str], index_key: str, **options) -> DirectoryConfig:
    encryption = DirectoryEncryptionConfig(keys=[SecretStr(key) for key in keys], index_key=SecretStr(index_key))
    return DirectoryConfig(url=SecretStr(url), encryption=encryption, **options)


@pytest.fixture
def keys() -> dict[str, str]:
    """Two encryption keys (old, new) and the index key."""
    return {"old": generate_key(), "new": generate_key(), "index": generate_key()}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def directory(database_url: str, keys: dict[str, str], clock: FakeClock) -> AsyncIterator[Directory]:
    """A migrated directory sealing with the `old` key."""
    opened = await open_directory(directory_config(database_url, [keys["old"]], keys["index"]), clock)
    try:
        yield opened
    finally:
        await opened.close()
