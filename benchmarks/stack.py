"""The three servers of one benchmark run: static upstream, gateway under test, baseline proxy.

The gateway is started exactly as in production (`scim-gateway serve`, so
uvloop, httptools and no access log via gateway.inbound.serving.uvicorn_config) with a
generated config: one tenant `bench` with an `invicti` app (SCIM
pass-through) and an `orca` app (Orca REST, translated), both on the static
upstream. Everything production runs is on: the audit trail (to stdout,
which is /dev/null here), metrics, and throttling with inbound limits per
tenant and per app and an outbound budget with a concurrency cap per app,
set so high that the throttle code runs on every request but never refuses
or waits. Orca's list cache is off (`list_cache_seconds: 0`) so that each
list walks Orca's pages, as the baseline does.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.processes import LOOPBACK, CorePlan, Server, free_port, pinned, start_server, stop_server
from gateway.inbound.auth import hash_token

TENANT, APP = "bench", "invicti"
SCIM_PREFIX = f"/tenants/{TENANT}/apps/{APP}/scim/v2"
#: Generous limits: the throttle reserves for every request and never makes one wait.
GENEROUS = {"rate": 1_000_000, "burst": 1_000_000, "max_wait": 0.5}
GENEROUS_UPSTREAM = {"rate": 1_000_000, "burst": 1_000_000, "concurrency": 1000}


def scim_prefix(app: str) -> str:
    """The SCIM root path of `app` on the gateway and the baseline."""
    return f"/tenants/{TENANT}/apps/{app}/scim/v2"


GATEWAY_MAIN = "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))"


@dataclass
class Stack:
    """Running servers plus what a client needs to call them."""

    upstream: Server
    gateway: Server
    baseline: Server
    inbound_token: str
    gateway_command: str

    def proxies(self) -> dict[str, Server]:
        return {"gateway": self.gateway, "baseline": self.baseline}


def gateway_config(upstream_url: str, inbound_token: str) -> dict[str, object]:
    """The gateway's YAML tree: one tenant, an invicti and an orca app on the static upstream, throttled."""
    # The static upstream is plain http on loopback: allowed explicitly, as for any local simulator.
    throttled = {"limits": GENEROUS, "upstream": GENEROUS_UPSTREAM, "allow_insecure_url": True}
    return {
        # /metrics on a free loopback port of its own (the default 9464 could be taken).
        "observability": {"metrics_port": 0, "metrics_host": LOOPBACK},
        "tenants": {
            TENANT: {
                "tokens": [{"name": "bench", "sha256": hash_token(inbound_token)}],
                "limits": GENEROUS,
                "apps": {
                    APP: {
                        "vendor": "invicti",
                        "base_url": f"{upstream_url}/v2",
                        "credentials": {"token": "env:BENCH_UPSTREAM_TOKEN"},
                        **throttled,
                    },
                    "orca": {
                        "vendor": "orca",
                        "base_url": f"{upstream_url}/api",
                        "credentials": {"token": "env:BENCH_UPSTREAM_TOKEN"},
                        "options": {"list_cache_seconds": 0},
                        **throttled,
                    },
                },
            }
        },
    }


def start_gateway(config: dict[str, object], work_dir: Path, core: int | None, env: dict[str, str]) -> Server:
    """`scim-gateway serve` with `config` (written to work_dir) on a free port, pinned to `core`; ready on return."""
    path = work_dir / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    serve = ["serve", "--config", str(path), "--host", LOOPBACK, "--port", str(port)]
    command = pinned([sys.executable, "-c", GATEWAY_MAIN, *serve], core)
    return start_server("gateway", command, port, log_dir=work_dir, ready_path="/readyz", env=env)


def start_upstream(work_dir: Path, core: int | None) -> Server:
    """The static upstream (SCIM on /v2, Orca REST on /api) on a free port, pinned to `core`; ready on return."""
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.upstream", "--port", str(port)]
    return start_server("upstream", pinned(command, core), port, log_dir=work_dir, ready_path="/v2/Users")


@contextlib.contextmanager
def running_stack(cores: CorePlan, work_dir: Path) -> Iterator[Stack]:
    """Start upstream, gateway and baseline (in that order); stop them all on exit, whatever happens."""
    inbound_token = secrets.token_urlsafe(24)
    env = {"BENCH_UPSTREAM_TOKEN": secrets.token_urlsafe(24), "BENCH_INBOUND_TOKEN": inbound_token}
    started: list[Server] = []
    try:
        upstream = start_upstream(work_dir, cores.upstream)
        started.append(upstream)

        gateway = start_gateway(gateway_config(upstream.url, inbound_token), work_dir, cores.proxy, env)
        started.append(gateway)

        port = free_port()
        baseline_cmd = [sys.executable, "-m", "benchmarks.baseline", "--port", str(port)]
        baseline = start_server(
            "baseline",
            pinned([*baseline_cmd, "--upstream", f"{upstream.url}/v2", "--orca", f"{upstream.url}/api"], cores.proxy),
            port,
            log_dir=work_dir,
            ready_path="/healthz",
            env=env,
        )
        started.append(baseline)
        command = f"scim-gateway serve --config {work_dir / 'gateway.yaml'} --host {LOOPBACK} --port {gateway.port}"
        yield Stack(upstream, gateway, baseline, inbound_token, command)
    finally:
        for server in reversed(started):
            stop_server(server)
