"""Graceful shutdown drains in-flight requests: SIGTERM to `scim-gateway serve` while a slow vendor call is
in flight; the call completes, new connections are refused, the process exits after it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.auth import hash_token
from tests.resilience.harness import TOKENS, simulator
from tests.throttle.redis_server import free_port

SCIM_GATEWAY = Path(sys.executable).with_name("scim-gateway")


async def test_sigterm_lets_a_slow_in_flight_request_finish(tmp_path: Path) -> None:
    async with simulator() as sim:
        config = {
            "allow_literal_secrets": True,
            "observability": {"audit": {"file": os.devnull}, "health_check_interval": 3600},
            "tenants": {
                "acme": {
                    "tokens": [{"name": "t", "sha256": hash_token(TOKENS["acme"])}],
                    "apps": {"invicti": {"vendor": "invicti", "base_url": sim.scim_url,
                                         "credentials": {"token": sim.token}}},
                }
            },
        }
        path = tmp_path / "gateway.yaml"
        path.write_text(yaml.safe_dump(config))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = await asyncio.create_subprocess_exec(
            str(SCIM_GATEWAY), "serve", "--config", str(path), "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "WARNING", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                await _wait_ready(client, url, process)
                await sim.settle()
                sim.fault(path="/api/scim/v2/Users", latency=1.5)
                slow = asyncio.create_task(
                    client.get(url + "/tenants/acme/apps/invicti/scim/v2/Users",
                               headers={"Authorization": f"Bearer {TOKENS['acme']}"})
                )
                for _ in range(200):  # until the call is at the vendor
                    if sim.requests("GET", "/Users"):
                        break
                    await asyncio.sleep(0.01)
                assert sim.requests("GET", "/Users"), "the slow request never reached the simulator"
                process.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.3)
                with pytest.raises(httpx.ConnectError):  # no longer accepting
                    await httpx.AsyncClient().get(url + "/healthz")
                answer = await slow
                assert answer.status_code == 200, answer.text
                # uvicorn re-raises the signal after its graceful shutdown, so "killed by SIGTERM" is clean.
                assert await asyncio.wait_for(process.wait(), 10) in (0, -signal.SIGTERM)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _wait_ready(client: httpx.AsyncClient, url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.returncode is not None:
            pytest.fail(f"gateway exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(url + "/readyz")).status_code == 200:
                return
        await asyncio.sleep(0.05)
    pytest.fail("gateway did not become ready")
