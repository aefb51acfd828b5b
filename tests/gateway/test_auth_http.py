"""Inbound authentication over loopback: refusals that reveal nothing about which tenants exist."""

from __future__ import annotations

import httpx
import pytest

from tests.resilience.harness import TOKENS, app_config, gateway, gateway_config, simulator

#: The same request id on every request, so that only what the gateway decides can differ.
REQUEST_ID = "probe-1"
CASES = [None, "", "Bearer", "Bearer wrong-token", "Basic YWNtZTp4", f"Bearer {TOKENS['globex']}"]


def _bytes(response: httpx.Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, every header in order (the Date value masked: it is the clock's, not the tenant's) and body."""
    headers = [(name, b"<date>" if name.lower() == b"date" else value) for name, value in response.headers.raw]
    return response.status_code, headers, response.content


@pytest.mark.parametrize("authorization", CASES)
async def test_an_unknown_tenant_and_a_wrong_token_get_the_same_bytes(authorization: str | None) -> None:
    async with simulator() as sim:
        config = gateway_config({"acme": {"apps": {"invicti": app_config(sim)}}})
        async with gateway(config) as server, httpx.AsyncClient(base_url=server.url) as client:
            headers = {"X-Request-ID": REQUEST_ID}
            if authorization is not None:
                headers["Authorization"] = authorization
            answers = [
                await client.get(f"/tenants/{tenant}/apps/{app}/scim/v2/Users/42", headers=headers)
                for tenant, app in [("acme", "invicti"), ("nosuch", "invicti"), ("acme", "nosuch"), ("x" * 70, "y")]
            ]
            known = _bytes(answers[0])
            assert known[0] == 401
            assert answers[0].json()["status"] == "401"
            for other in answers[1:]:
                assert _bytes(other) == known
