"""Graceful shutdown drains in-flight requests: SIGTERM to `scim-gateway serve` while a slow vendor call is
in flight; the call completes, new connections are refused, the process exits after it."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.auth import hash_token
from tests.processes import gateway_process
from tests.resilience.harness import TEST_OBSERVABILITY, TOKENS, app_config, simulator

SCIM_GATEWAY = Path(sys.executable).with_name("scim-gateway")


async def test_sigterm_lets_a_slow_in_flight_request_finish(tmp_path: Path) -> None:
    async with simulator() as sim:
        config = {
            "allow_literal_secrets": True,
            "observability": TEST_OBSERVABILITY,
            "tenants": {
                "acme": {
                    "tokens": [{"name": "t", "sha256": hash_token(TOKENS["acme"])}],
                    "apps": {"invicti": app_config(sim)},
                }
            },
        }
        path = tmp_path / "gateway.yaml"
        path.write_text(yaml.safe_dump(config))
        async with gateway_process(path) as gateway, httpx.AsyncClient(timeout=10) as client:
            await sim.settle()
            sim.fault(path="/api/scim/v2/Users", latency=1.5)
            slow = asyncio.create_task(
                client.get(gateway.url + "/tenants/acme/apps/invicti/scim/v2/Users",
                           headers={"Authorization": f"Bearer {TOKENS['acme']}"})
            )  # fmt: skip
            for _ in range(200):  # until the call is at the vendor
                if sim.requests("GET", "/Users"):
                    break
                await asyncio.sleep(0.01)
            assert sim.requests("GET", "/Users"), "the slow request never reached the simulator"
            gateway.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            with pytest.raises(httpx.ConnectError):  # no longer accepting
                await httpx.AsyncClient().get(gateway.url + "/healthz")
            answer = await slow
            assert answer.status_code == 200, answer.text
            # uvicorn re-raises the signal after its graceful shutdown, so "killed by SIGTERM" is clean.
            assert await asyncio.wait_for(gateway.process.wait(), 10) in (0, -signal.SIGTERM)
