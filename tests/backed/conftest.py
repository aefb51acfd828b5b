"""Directory-backed apps over loopback: the Orca and Delinea REST simulators, a gateway with
`directory: full`, and the directory on SQLite and on a real PostgreSQL (tests/directory/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.backed.harness import BackedGateway, backed_gateway
from tests.directory.conftest import backend, clock, database_url, directory, keys, postgres  # noqa: F401 (fixtures)


@pytest.fixture
async def backed(database_url: str, keys: dict[str, str]) -> AsyncIterator[BackedGateway]:  # noqa: F811
    async with backed_gateway(database_url, keys) as running:
        yield running


@pytest.fixture
def directory_section(database_url: str, keys: dict[str, str]) -> dict[str, Any]:  # noqa: F811
    return {"url": database_url, "encryption": {"keys": [keys["old"]], "index_key": keys["index"]}}
