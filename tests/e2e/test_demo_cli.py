"""`scim-gateway demo` as a newcomer runs it: it serves every app, prints where, and stops cleanly on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import tempfile
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.demo import DEMO_TOKENS
from tests.processes import SCIM_GATEWAY, free_port

READY = "Ctrl-C stops everything."


@contextlib.asynccontextmanager
async def demo_process() -> AsyncIterator[tuple[asyncio.subprocess.Process, list[str]]]:
    """`scim-gateway demo` on free ports and its own data directory, once it has printed where everything is
    (its stderr lines)."""
    port, metrics_port = free_port(), free_port()
    data_dir = tempfile.TemporaryDirectory(prefix="demo-data-")
    process = await asyncio.create_subprocess_exec(
        str(SCIM_GATEWAY), "demo", "--port", str(port), "--metrics-port", str(metrics_port),
        "--data-dir", data_dir.name, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        printed: list[str] = []
        async with asyncio.timeout(30):
            while not printed or printed[-1] != READY:
                line = await process.stderr.readline()
                assert line, f"the demo exited: {printed}"
                printed.append(line.decode().strip())
        assert printed[0] == f"scim-gateway demo on http://127.0.0.1:{port}"
        assert f"metrics (their own port, not the gateway's): http://127.0.0.1:{metrics_port}/metrics" in printed
        yield process, printed
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        data_dir.cleanup()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_demo_serves_every_app_and_stops_on_a_signal(stop_signal: signal.Signals) -> None:
    async with demo_process() as (process, printed):
        urls = [line.split()[-1] for line in printed if "/scim/v2" in line]
        gateway = printed[0].split()[-1]
        assert f"{gateway}/tenants/acme/apps/invicti/scim/v2" in urls
        async with httpx.AsyncClient(timeout=10) as client:
            for url in urls:
                tenant = url.split("/tenants/")[1].split("/")[0]
                headers = {"Authorization": f"Bearer {DEMO_TOKENS[tenant]}"}
                response = await client.get(url + "/ServiceProviderConfig", headers=headers)
                assert response.status_code == 200, url
            # /metrics is on its own port, not on the one IdPs are given.
            metrics_url = next(line.split()[-1] for line in printed if line.startswith("metrics"))
            assert "scim_gateway_requests_total{" in (await client.get(metrics_url)).text
            assert (await client.get(gateway + "/metrics")).status_code == 404
        process.send_signal(stop_signal)
        async with asyncio.timeout(15):
            await process.communicate()
        assert process.returncode == 0


async def test_demo_stdout_is_one_json_log_stream() -> None:
    """Simulators and servers log through the same JSON lines as the gateway, never plain text."""
    async with demo_process() as (process, printed):
        simulator = next(line.split()[-1] for line in printed if line.startswith("invicti/acme:"))
        host, port = simulator.removeprefix("http://").split(":")
        # A malformed request makes the simulator's HTTP server log a warning (uvicorn: "Invalid HTTP request").
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"NOT HTTP\r\n\r\n")
        await writer.drain()
        await reader.read()
        writer.close()
        gateway = printed[0].split()[-1]
        async with httpx.AsyncClient(timeout=10) as client:
            headers = {"Authorization": f"Bearer {DEMO_TOKENS['acme']}"}
            assert (await client.get(gateway + "/tenants/acme/apps/invicti/scim/v2/Users", headers=headers)).is_success
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            stdout, stderr = await process.communicate()
    lines = stdout.decode().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    events = {record["event"] for record in records}
    assert {"app_health", "audit"} <= events
    assert any(record.get("logger", "").startswith("uvicorn") for record in records), events
    assert stderr.decode().strip() == "stopping ...", "stderr carries only the demo's own messages"
