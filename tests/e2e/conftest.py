"""The demo (every simulator plus the gateway, exactly as `scim-gateway demo` runs it) for end-to-end tests.

One demo serves a whole test module (its tests use unique names, so they
do not see each other's data); modules that use it mark their tests with
`pytestmark = pytest.mark.asyncio(loop_scope="module")`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from gateway.demo import DEMO_TOKENS, DemoEnvironment, start_demo


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[DemoEnvironment]:
    async with start_demo() as environment:
        yield environment


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


def auth(tenant: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_TOKENS[tenant]}"}
