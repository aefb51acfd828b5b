"""The demo: every vendor simulator plus the gateway, in one process, on loopback.

`start_demo` is shared by `scim-gateway demo` and the end-to-end tests, so the
tests exercise exactly what a newcomer runs. Each simulator gets a free port;
its URL and credentials reach `config/demo.yaml` through DEMO_* environment
variables (URLs by `${...}` interpolation, credentials by `env:` references,
exactly as production secrets would).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from gateway.app import create_app
from gateway.config import GatewayConfig, parse_config, read_yaml
from gateway.inbound.serving import RunningServer, gateway_options, start_server
from vendors.simulators import SIMULATORS

#: (vendor simulator, tenant seed) pairs the demo runs.
DEMO_SIMULATORS = (
    ("orca", "acme"),
    ("delinea", "acme"),
    ("invicti", "acme"),
    ("invicti", "globex"),
    ("spekit", "acme"),
    ("spekit", "globex"),
    ("orca", "globex"),
    ("darktrace", "acme"),
)
DEMO_TOKENS = {"acme": "acme-demo-token", "globex": "globex-demo-token"}


@dataclass
class DemoEnvironment:
    gateway: RunningServer
    config: GatewayConfig
    simulators: dict[tuple[str, str], RunningServer] = field(default_factory=dict)

    def scim_url(self, tenant: str, app: str) -> str:
        return f"{self.gateway.url}/tenants/{tenant}/apps/{app}/scim/v2"

    def simulator_url(self, vendor: str, tenant: str) -> str:
        return self.simulators[(vendor, tenant)].url


def demo_config_path() -> str:
    return str(files("gateway.bundled_config") / "demo.yaml")


@contextlib.asynccontextmanager
async def start_simulators() -> AsyncIterator[dict[tuple[str, str], RunningServer]]:
    """Start every demo simulator on a free port and export its DEMO_* variables; stop them all on exit."""
    simulators: dict[tuple[str, str], RunningServer] = {}
    try:
        for vendor, tenant in DEMO_SIMULATORS:
            spec = SIMULATORS[vendor]
            settings = spec.demo_settings(tenant)
            running = await start_server(spec.create_app(settings), "127.0.0.1", 0)
            simulators[(vendor, tenant)] = running
            prefix = f"DEMO_{vendor.upper()}_{tenant.upper()}"
            os.environ[f"{prefix}_URL"] = running.url
            os.environ[f"{prefix}_SCIM_URL"] = running.url + spec.scim_base_path(settings)
            for name, value in spec.demo_credentials(settings).items():
                os.environ[f"{prefix}_{name.upper()}"] = value
        yield simulators
    finally:
        # Each server notices it should stop on its own 0.1 s tick: stop them together.
        await asyncio.gather(*(running.stop() for running in simulators.values()))


@contextlib.asynccontextmanager
async def start_demo(
    host: str = "127.0.0.1", port: int = 0, adjust: Callable[[dict[str, Any]], None] | None = None
) -> AsyncIterator[DemoEnvironment]:
    """Start the simulators, then the gateway on config/demo.yaml; stop everything on exit.

    `adjust` may change the config's YAML tree before it is validated (tests use it for audit files,
    limits, ports); the demo itself runs the file as it is.
    """
    async with start_simulators() as simulators:
        raw = read_yaml(demo_config_path())
        if adjust is not None:
            adjust(raw)
        config = parse_config(raw)
        gateway = await start_server(create_app(config), host, port, **gateway_options(config))
        try:
            yield DemoEnvironment(gateway=gateway, config=config, simulators=simulators)
        finally:
            await gateway.stop()


async def run_demo(host: str, port: int) -> int:
    """Serve the demo until Ctrl-C or SIGTERM, printing where everything is."""
    async with start_demo(host, port) as demo:
        _print_demo(demo)
        await _wait_for_signal()
        print("\nstopping ...", flush=True)
    return 0


async def run_simulator(vendor: str, host: str, port: int, seed: str) -> int:
    """Serve one vendor simulator until Ctrl-C or SIGTERM."""
    spec = SIMULATORS.get(vendor)
    if spec is None:
        print(f"unknown simulator {vendor!r}; expected one of: {', '.join(sorted(SIMULATORS))}")
        return 2
    settings = spec.demo_settings(seed)
    running = await start_server(spec.create_app(settings), host, port)
    print(f"{vendor} simulator ({seed}) SCIM base URL: {running.url}{spec.scim_base_path(settings)}")
    for name, value in spec.demo_credentials(settings).items():
        print(f"  {name}: {value}")
    print(f"  state: {running.url}/_sim/state", flush=True)
    try:
        await _wait_for_signal()
    finally:
        await running.stop()
    return 0


def _print_demo(demo: DemoEnvironment) -> None:
    print(f"scim-gateway demo on {demo.gateway.url}\n")
    for tenant_name, tenant in demo.config.tenants.items():
        print(f"tenant {tenant_name}: Authorization: Bearer {DEMO_TOKENS[tenant_name]}")
        for app_name in tenant.apps:
            print(f"  {app_name:14} {demo.scim_url(tenant_name, app_name)}")
    print("\nsimulators (raw state at <url>/_sim/state):")
    for (vendor, tenant), running in demo.simulators.items():
        print(f"  {vendor}/{tenant}: {running.url}")
    print("\nCtrl-C stops everything.", flush=True)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
