"""The demo: every vendor simulator plus the gateway, in one process, on loopback.

`start_demo` is shared by `scim-gateway demo` and the end-to-end tests, so the
tests exercise exactly what a newcomer runs. Each simulator gets a free port;
its URL and credentials reach `config/demo.yaml` through DEMO_* environment
variables (URLs by `${...}` interpolation, credentials by `env:` references,
exactly as production secrets would).

The demo's directory (SQLite) lives in its data directory (DEMO_DATA_DIR), with
the encryption keys it generates there on first run: files readable by their
owner only, referenced as `file:`, kept across runs. The database itself starts
empty on every run, because the simulators do: links kept from an earlier run
would point at vendor ids the fresh simulators have given to other users.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.apps import vendor_apps
from gateway.config import GatewayConfig, parse_config, read_yaml
from gateway.directory.keys import generate_key
from gateway.inbound.serving import RunningServer, gateway_options, start_server
from vendors.registry import demo_accounts, simulator, simulator_names

DEMO_TOKENS = {"acme": "acme-demo-token", "globex": "globex-demo-token"}
#: The key files config/demo.yaml refers to, in the demo's data directory.
DEMO_KEY_FILES = ("directory-key", "directory-index-key")
DEMO_DATABASE = "directory.db"


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


def placeholder_environment(data_dir: Path | None = None) -> dict[str, str]:
    """The DEMO_* variables with loopback URLs where nothing runs: enough to validate config/demo.yaml.

    DEMO_DATA_DIR is `data_dir` with its keys generated if missing (`demo_keys`); None: a scratch
    directory of this process, removed when it exits (the demo's own keys are never touched).
    """
    environment = demo_environment(
        {pair: f"http://127.0.0.1:{9001 + index}" for index, pair in enumerate(demo_accounts())}
    )
    data_dir = data_dir if data_dir is not None else _scratch_data_dir()
    demo_keys(data_dir)
    environment["DEMO_DATA_DIR"] = str(data_dir)
    return environment


@functools.cache
def _scratch_data_dir() -> Path:
    scratch = tempfile.mkdtemp(prefix="scim-gateway-demo-check-")
    atexit.register(shutil.rmtree, scratch, True)
    return Path(scratch)


def default_data_dir() -> Path:
    """Where `scim-gateway demo` keeps its directory and keys: $XDG_DATA_HOME/scim-gateway/demo."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "scim-gateway" / "demo"


def demo_keys(data_dir: Path) -> None:
    """Generate the demo's directory keys into `data_dir` unless there already (files 0600, directory 0700).

    Never overwrites a key: rows sealed with it would no longer open.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in DEMO_KEY_FILES:
        path = data_dir / name
        with contextlib.suppress(FileExistsError):
            # O_EXCL: created by this call, with its mode, or left alone (two demos starting together).
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as key_file:
                key_file.write(generate_key() + "\n")


def prepare_data_dir(data_dir: Path) -> None:
    """The demo's data directory for one run: its keys (kept) and an empty directory database."""
    demo_keys(data_dir)
    for suffix in ("", "-wal", "-shm"):
        (data_dir / f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def demo_data(data_dir: Path | None) -> Iterator[Path]:
    """Prepare `data_dir` and export DEMO_DATA_DIR; None: a temporary one, removed on exit (tests)."""
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scim-gateway-demo-")))
        prepare_data_dir(data_dir)
        os.environ["DEMO_DATA_DIR"] = str(data_dir)
        yield data_dir


@contextlib.asynccontextmanager
async def start_simulators(data_dir: Path | None = None) -> AsyncIterator[dict[tuple[str, str], RunningServer]]:
    """Start every demo simulator on a free port and export its DEMO_* variables; stop them all on exit.

    Also prepares the demo's data directory (`demo_data`; None: a temporary one) and exports DEMO_DATA_DIR,
    so that config/demo.yaml validates once this has started.
    """
    simulators: dict[tuple[str, str], RunningServer] = {}
    with demo_data(data_dir):
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
    data_dir: Path | None = None,
) -> AsyncIterator[DemoEnvironment]:
    """Start the simulators, then the gateway on config/demo.yaml; stop everything on exit.

    `metrics_port` replaces the file's (0: a free port). `adjust` may change the config's YAML tree
    before it is validated (tests use it for audit files, limits, ports); the demo itself runs the
    file as it is. `data_dir` holds the directory and its keys (None: a temporary directory).
    """
    async with start_simulators(data_dir) as simulators:
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


async def run_demo(host: str, port: int, metrics_port: int, data_dir: Path) -> int:
    """Serve the demo until Ctrl-C or SIGTERM, printing where everything is (stderr)."""
    async with start_demo(host, port, metrics_port=metrics_port, data_dir=data_dir) as demo:
        _print_demo(demo, data_dir)
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


def _print_demo(demo: DemoEnvironment, data_dir: Path) -> None:
    """Where everything is, on stderr: stdout carries only the JSON log and audit lines."""
    lines = [f"scim-gateway demo on {demo.gateway.url}", ""]
    for tenant_name, tenant in demo.config.tenants.items():
        lines.append(f"tenant {tenant_name}: Authorization: Bearer {DEMO_TOKENS[tenant_name]}")
        lines.extend(f"  {app_name:14} {demo.scim_url(tenant_name, app_name)}" for app_name in tenant.apps)
    lines += ["", f"metrics (their own port, not the gateway's): {demo.metrics_url}"]
    lines += [f"directory (SQLite, emptied on each start) and its keys (kept): {data_dir}"]
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
