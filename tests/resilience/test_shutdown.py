"""Graceful shutdown drains in-flight requests: SIGTERM to `scim-gateway serve` while a slow vendor call is
in flight; the call completes, new connections are refused, the process exits after it."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.inbound.auth import hash_token
from tests.processes import gateway_process
from tests.resilience.harness import TEST_METRICS, TEST_OBSERVABILITY, TOKENS, app_config, simulator

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


async def test_a_request_still_running_when_the_drain_ends_is_answered_503_and_audited(tmp_path: Path) -> None:
    """SIGTERM with `server.drain_timeout: 1`: a 0.4 s call gets its 200; a 4 s call is cut with a SCIM 503."""
    audit_file = tmp_path / "audit.jsonl"
    async with simulator() as sim:
        config = {
            "allow_literal_secrets": True,
            "server": {"drain_timeout": 1},
            "observability": {"audit": {"file": str(audit_file)}, "health_check_interval": 3600, **TEST_METRICS},
            "tenants": {
                "acme": {
                    "tokens": [{"name": "t", "sha256": hash_token(TOKENS["acme"])}],
                    "apps": {"invicti": {"vendor": "invicti", "base_url": sim.scim_url, "allow_insecure_url": True,
                                         "credentials": {"token": sim.token}}},
                }
            },
        }  # fmt: skip
        path = tmp_path / "gateway.yaml"
        path.write_text(yaml.safe_dump(config))
        headers = {"Authorization": f"Bearer {TOKENS['acme']}"}
        async with gateway_process(path) as gateway, httpx.AsyncClient(timeout=10, headers=headers) as client:
            await sim.settle()
            sim.fault(path="/api/scim/v2/Users", latency=4)
            sim.fault(path="/api/scim/v2/Groups", latency=0.4)
            base = gateway.url + "/tenants/acme/apps/invicti/scim/v2"
            slow = asyncio.create_task(client.get(base + "/Users", headers={"X-Request-ID": "cut-1"}))
            quick = asyncio.create_task(client.get(base + "/Groups", headers={"X-Request-ID": "drained-1"}))
            for _ in range(300):  # until both calls are at the vendor
                if sim.requests("GET", "/Users") and sim.requests("GET", "/Groups"):
                    break
                await asyncio.sleep(0.01)
            gateway.process.send_signal(signal.SIGTERM)
            cut, drained = await slow, await quick
            assert await asyncio.wait_for(gateway.process.wait(), 10) in (0, -signal.SIGTERM)
    assert drained.status_code == 200, drained.text
    assert cut.status_code == 503 and cut.headers["Retry-After"] == "1", cut.text
    assert cut.headers["Content-Type"].startswith("application/scim+json")
    assert cut.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    records = {record["request_id"]: record for record in map(json.loads, audit_file.read_text().splitlines())}
    assert records["cut-1"]["status"] == 503 and records["cut-1"]["outcome"] == "shutdown"
    assert records["drained-1"]["status"] == 200
