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
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.apps import vendor_apps
from gateway.config import GatewayConfig, parse_config, read_yaml
from gateway.inbound.serving import RunningServer, gateway_options, start_server
from vendors.registry import demo_accounts, simulator, simulator_names

DEMO_TOKENS = {"acme": "acme-demo-token", "globex": "globex-demo-token"}


@dataclass
class DemoEnvironment:
    gateway: RunningServer
    config: GatewayConfig
    app: Starlette
    simulators: dict[tuple[str, str], RunningServer] = field(default_factory=dict)

    @property
    def metrics_url(self) -> str:
        """Where /metrics is served: its own loopback port (config/demo.yaml), not the gateway's."""
        url: str | None = self.app.state.metrics_url
        return url if url is not None else self.gateway.url + "/metrics"

    def scim_url(self, tenant: str, app: str) -> str:
        return f"{self.gateway.url}/tenants/{tenant}/apps/{app}/scim/v2"

    def simulator_url(self, vendor: str, tenant: str) -> str:
        return self.simulators[(vendor, tenant)].url


def demo_config_path() -> str:
    """config/demo.yaml of this source tree when run from one, else the copy installed with the package."""
    source = Path(__file__).resolve().parents[1] / "config" / "demo.yaml"
    return str(source) if source.is_file() else str(files("gateway.bundled_config") / "demo.yaml")


def demo_environment(roots: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """The DEMO_* variables config/demo.yaml reads, for the simulators served at `roots` ((vendor, tenant) -> URL)."""
    environment: dict[str, str] = {}
    for (vendor, tenant), root in roots.items():
        spec = simulator(vendor)
        settings = spec.demo_settings(tenant)
        prefix = f"DEMO_{vendor.upper()}_{tenant.upper()}"
        environment[f"{prefix}_URL"] = root
        environment[f"{prefix}_SCIM_URL"] = root + spec.scim_base_path(settings)
        for name, value in spec.demo_credentials(settings).items():
            environment[f"{prefix}_{name.upper()}"] = value
    return environment


def placeholder_environment() -> dict[str, str]:
    """The DEMO_* variables with loopback URLs where nothing runs: enough to validate config/demo.yaml."""
    return demo_environment({pair: f"http://127.0.0.1:{9001 + index}" for index, pair in enumerate(demo_accounts())})


@contextlib.asynccontextmanager
async def start_simulators() -> AsyncIterator[dict[tuple[str, str], RunningServer]]:
    """Start every demo simulator on a free port and export its DEMO_* variables; stop them all on exit."""
    simulators: dict[tuple[str, str], RunningServer] = {}
    try:
        for vendor, tenant in demo_accounts():
            spec = simulator(vendor)
            app = spec.create_app(spec.demo_settings(tenant))
            simulators[(vendor, tenant)] = await start_server(app, "127.0.0.1", 0, log_config=None)
        os.environ.update(demo_environment({pair: running.url for pair, running in simulators.items()}))
        yield simulators
    finally:
        # Each server notices it should stop on its own 0.1 s tick: stop them together.
        await asyncio.gather(*(running.stop() for running in simulators.values()))


@contextlib.asynccontextmanager
async def start_demo(
    host: str = "127.0.0.1",
    port: int = 0,
    adjust: Callable[[dict[str, Any]], None] | None = None,
    metrics_port: int = 0,
) -> AsyncIterator[DemoEnvironment]:
    """Start the simulators, then the gateway on config/demo.yaml; stop everything on exit.

    `metrics_port` replaces the file's (0: a free port). `adjust` may change the config's YAML tree
    before it is validated (tests use it for audit files, limits, ports); the demo itself runs the
    file as it is.
    """
    async with start_simulators() as simulators:
        raw = read_yaml(demo_config_path())
        raw.setdefault("observability", {})["metrics_port"] = metrics_port
        if adjust is not None:
            adjust(raw)
        config = parse_config(raw)
        vendor_apps(config)  # a bad vendor setting is a ConfigError here, not a failed start-up
        app = create_app(config)
        gateway = await start_server(app, host, port, log_config=None, **gateway_options(config))
        try:
            yield DemoEnvironment(gateway=gateway, config=config, app=app, simulators=simulators)
        finally:
            await gateway.stop()


async def run_demo(host: str, port: int, metrics_port: int) -> int:
    """Serve the demo until Ctrl-C or SIGTERM, printing where everything is (stderr)."""
    async with start_demo(host, port, metrics_port=metrics_port) as demo:
        _print_demo(demo)
        await _wait_for_signal()
        print("\nstopping ...", file=sys.stderr, flush=True)
    return 0


async def run_simulator(vendor: str, host: str, port: int, seed: str) -> int:
    """Serve one vendor simulator until Ctrl-C or SIGTERM."""
    if vendor not in simulator_names():
        print(f"unknown simulator {vendor!r}; expected one of: {', '.join(simulator_names())}")
        return 2
    spec = simulator(vendor)
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
    """Where everything is, on stderr: stdout carries only the JSON log and audit lines."""
    lines = [f"scim-gateway demo on {demo.gateway.url}", ""]
    for tenant_name, tenant in demo.config.tenants.items():
        lines.append(f"tenant {tenant_name}: Authorization: Bearer {DEMO_TOKENS[tenant_name]}")
        lines.extend(f"  {app_name:14} {demo.scim_url(tenant_name, app_name)}" for app_name in tenant.apps)
    lines += ["", f"metrics (their own port, not the gateway's): {demo.metrics_url}"]
    lines += ["", "simulators (raw state at <url>/_sim/state):"]
    lines.extend(f"  {vendor}/{tenant}: {running.url}" for (vendor, tenant), running in demo.simulators.items())
    lines += ["", "Ctrl-C stops everything."]
    print("\n".join(lines), file=sys.stderr, flush=True)


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
