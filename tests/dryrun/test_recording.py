"""The recording client of a dry-run app: what it answers, and what it keeps out of the record."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from gateway.clock import FakeClock
from gateway.outbound.auth import VendorAuth
from gateway.outbound.budget import CallBudget
from gateway.outbound.client import UpstreamClient
from gateway.outbound.dry_run import DRY_RUN_ID_PREFIX


class _NoAuth(VendorAuth):
    async def sign(self, method: str, url: str, headers: Any, scope: str | None = None) -> None:
        raise AssertionError("a recorded write is never signed")


async def test_writes_are_recorded_without_credentials_and_answered_as_a_vendor_would() -> None:
    async with aiohttp.ClientSession() as session:
        # Nothing listens on port 9: any request that is really sent fails.
        client = UpstreamClient(
            session, "http://127.0.0.1:9/api", _NoAuth(), "acme/x", secrets=("vendor-api-key-123",), record_writes=True
        )
        budget = CallBudget.starting_now(FakeClock(), 10)
        body = {
            "userName": "ada@acme.example",
            "password": "hunter22",
            "credentials": {"apiKey": "k"},
            "note": "token vendor-api-key-123 inside",
            "active": True,
        }
        created = await client.request("POST", "/users", json=body, budget=budget)
        assert created.status == 201
        answer = orjson.loads(created.body)
        assert answer["userName"] == "ada@acme.example" and answer["id"].startswith(DRY_RUN_ID_PREFIX)
        replaced = await client.request("PATCH", "/users/u%2F1", json={"active": False}, budget=budget)
        assert replaced.status == 200 and orjson.loads(replaced.body) == {"active": False, "id": "u/1"}
        deleted = await client.request("DELETE", "/users/u1", params={"hard": "true"}, budget=budget)
        assert deleted.status == 204 and deleted.body == b""
    first, second, third = budget.recorded
    assert first.method == "POST" and first.path == "/users"
    assert first.body == {
        "userName": "ada@acme.example",
        "password": "[redacted]",
        "credentials": "[redacted]",
        "note": "token [redacted] inside",
        "active": True,
    }
    assert (second.method, second.path, second.body) == ("PATCH", "/users/u%2F1", {"active": False})
    assert (third.method, third.query, third.body) == ("DELETE", {"hard": "true"}, None)
    assert budget.statuses == []  # nothing was sent
