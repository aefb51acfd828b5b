"""`scim-gateway demo` as a newcomer runs it: it serves every app, prints where, and stops cleanly on a signal."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest

from gateway.demo import DEMO_TOKENS
from tests.processes import SCIM_GATEWAY, free_port

READY = "Ctrl-C stops everything."


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_demo_serves_every_app_and_stops_on_a_signal(stop_signal: signal.Signals) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(SCIM_GATEWAY), "demo", "--port", str(port), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        printed = []
        async with asyncio.timeout(30):
            while not printed or printed[-1] != READY:
                printed.append((await process.stdout.readline()).decode().strip())
        urls = [line.split()[-1] for line in printed if "/scim/v2" in line]
        assert f"http://127.0.0.1:{port}/tenants/acme/apps/invicti/scim/v2" in urls
        async with httpx.AsyncClient(timeout=10) as client:
            for url in urls:
                tenant = url.split("/tenants/")[1].split("/")[0]
                headers = {"Authorization": f"Bearer {DEMO_TOKENS[tenant]}"}
                response = await client.get(url + "/ServiceProviderConfig", headers=headers)
                assert response.status_code == 200, url
        process.send_signal(stop_signal)
        async with asyncio.timeout(15):
            await process.communicate()
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
