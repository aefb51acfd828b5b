"""Real `scim-gateway` processes for tests that need the command itself (signals, several replicas, logs).

`gateway_process` writes nothing and skips nothing: the config file is the
caller's, the process is started exactly as an operator would start it, and
the caller learns its URL once `/readyz` answers 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

SCIM_GATEWAY = Path(sys.executable).with_name("scim-gateway")
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class GatewayProcess:
    process: asyncio.subprocess.Process
    url: str


@contextlib.asynccontextmanager
async def gateway_process(
    config: Path,
    *,
    env: Mapping[str, str] | None = None,
    log_level: str = "WARNING",
    capture: bool = False,
    options: Sequence[str] = (),
) -> AsyncIterator[GatewayProcess]:
    """`scim-gateway serve --config FILE [options]` on a free loopback port, ready; SIGTERM (then kill) on exit.

    With `capture`, stdout and stderr are pipes the caller reads; otherwise they are discarded.
    """
    assert SCIM_GATEWAY.exists(), f"{SCIM_GATEWAY} not found: run scripts/setup"
    port = free_port()
    output = asyncio.subprocess.PIPE if capture else subprocess.DEVNULL
    process = await asyncio.create_subprocess_exec(
        str(SCIM_GATEWAY), "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", log_level, *options, env=None if env is None else dict(env), stdout=output, stderr=output,
    )  # fmt: skip
    running = GatewayProcess(process, f"http://127.0.0.1:{port}")
    try:
        await wait_ready(running)
        yield running
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def wait_ready(running: GatewayProcess) -> None:
    """Return once `/readyz` is 200; raises AssertionError if the process exits or START_TIMEOUT passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    async with httpx.AsyncClient(timeout=2) as client:
        while loop.time() < deadline:
            assert running.process.returncode is None, f"the gateway exited with {running.process.returncode}"
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(running.url + "/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"the gateway at {running.url} was not ready within {START_TIMEOUT:.0f} s")
