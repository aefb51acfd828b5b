"""The processes of one sync benchmark profile: Redis, PostgreSQL, the vendor, a neighbour, N gateways.

Redis is the throttle store the replicas share (`throttle.backend: redis`),
PostgreSQL their directory; both are real servers started for the run by the
tests' helpers (tests/throttle/redis_server.py, tests/directory/postgres_server.py),
which fail with how to install them when missing. The vendor is
benchmarks/sync_vendor.py with a strict rate limit; the neighbour an
unlimited Invicti simulator serving the tenant's other app and another
tenant's app, whose light calls measure fairness. Each gateway is
`scim-gateway serve` with its own audit file (what each IdP call cost at the
vendor is read from there: `upstream_calls`).
"""

from __future__ import annotations

import contextlib
import math
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.processes import LOOPBACK, Server, free_port, start_server, stop_server
from benchmarks.stack import GATEWAY_MAIN
from benchmarks.sync_vendor import SEED, SIMULATORS
from gateway.directory.keys import generate_key
from gateway.inbound.auth import hash_token

#: profile -> (vendor, its 429s carry Retry-After). Delinea never sends one; Orca documents none.
PROFILES: dict[str, tuple[str, bool]] = {
    "invicti": ("invicti", True),
    "orca": ("orca", False),
    "delinea": ("delinea", False),
}
TENANT, OTHER_TENANT = "acme", "beta"
SYNC_APP, OTHER_APP = "sync", "other"
DELINEA_ROLES = ("User", "Auditor", "Privilege Manager", "Administrator")


@dataclass(frozen=True)
class Tuning:
    """What the operator sets: the vendor's limit and how the gateway meets it."""

    rate: float
    vendor_burst: int
    upstream_burst: int
    concurrency: int | None
    #: Orca's `options.list_cache_seconds` (None: the connector's default).
    orca_list_cache: float | None = None


def vendor_app(vendor: str, url: str, env: dict[str, str], name: str) -> dict[str, Any]:
    """The gateway's app settings for the simulator of `vendor` at `url`; its demo credentials (seed bench) go
    into `env` as BENCH_<NAME>_<FIELD>, referenced from the config as secrets must be."""
    spec = SIMULATORS[vendor]
    settings = spec.demo_settings(SEED)

    def secret(field: str) -> str:
        variable = f"BENCH_{name}_{field}".upper()
        env[variable] = spec.demo_credentials(settings)[field]
        return "env:" + variable

    app: dict[str, Any] = {"vendor": vendor, "allow_insecure_url": True}
    if vendor == "invicti":
        return {**app, "base_url": url + spec.scim_base_path(settings), "credentials": {"token": secret("scim_token")}}
    if vendor == "orca":
        return {**app, "base_url": url + "/api", "credentials": {"token": secret("rest_token")}}
    credentials = {"client_id": secret("client_id"), "client_secret": secret("client_secret")}
    return {**app, "base_url": url, "credentials": credentials, "roles": list(DELINEA_ROLES)}


def gateway_config(
    vendor: str,
    vendor_url: str,
    neighbour_url: str,
    tuning: Tuning,
    tokens: dict[str, str],
    env: dict[str, str],
    replicas: int,
    audit_file: Path,
) -> dict[str, Any]:
    """One replica's config: tenant acme (the synced app and another), tenant beta; Redis, directory, audit.

    `env` holds the shared secrets (shared_env) and receives the apps' credentials."""
    upstream: dict[str, Any] = {"rate": tuning.rate, "burst": tuning.upstream_burst}
    if tuning.concurrency is not None:
        upstream["concurrency"] = tuning.concurrency
    neighbour = vendor_app("invicti", neighbour_url, env, "neighbour")
    synced = {**vendor_app(vendor, vendor_url, env, "sync"), "upstream": upstream}
    if vendor == "orca" and tuning.orca_list_cache is not None:
        synced["options"] = {"list_cache_seconds": tuning.orca_list_cache}
    encryption = {"keys": ["env:BENCH_DIRECTORY_KEY"], "index_key": "env:BENCH_DIRECTORY_INDEX_KEY"}
    return {
        # /metrics on the main port (loopback only here): the run reads the throttle's Redis fallbacks from it.
        "observability": {"metrics_port": None, "metrics_on_main_port": True, "audit": {"file": str(audit_file)}},
        "throttle": {"backend": "redis", "redis": {"url": "env:BENCH_REDIS_URL"}, "replicas": replicas},
        "directory": {"url": "env:BENCH_DIRECTORY_URL", "encryption": encryption},
        "tenants": {
            TENANT: {
                "tokens": [{"name": "entra", "sha256": hash_token(tokens[TENANT])}],
                "apps": {
                    SYNC_APP: synced,
                    OTHER_APP: neighbour,
                },
            },
            OTHER_TENANT: {
                "tokens": [{"name": "okta", "sha256": hash_token(tokens[OTHER_TENANT])}],
                "apps": {OTHER_APP: neighbour},
            },
        },
    }


@dataclass
class SyncStack:
    vendor: Server
    neighbour: Server
    gateways: list[Server]
    tokens: dict[str, str]
    audit_files: list[Path]

    def scim_url(self, replica: int, tenant: str, app: str) -> str:
        return f"{self.gateways[replica % len(self.gateways)].url}/tenants/{tenant}/apps/{app}/scim/v2"


def start_vendor(name: str, vendor: str, work: Path, rate: float | None, burst: int, retry_after: bool) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.sync_vendor", "--vendor", vendor, "--port", str(port)]
    if rate is not None:
        command += ["--rate", str(rate), "--burst", str(burst)] + (["--retry-after"] if retry_after else [])
    return start_server(name, command, port, log_dir=work, ready_path="/_sim/calls")


@contextlib.contextmanager
def running(profile: str, tuning: Tuning, replicas: int, shared: dict[str, str], work: Path) -> Iterator[SyncStack]:
    """Vendor, neighbour and `replicas` gateways for `profile`; all stopped on exit."""
    vendor, retry_after = PROFILES[profile]
    tokens = {TENANT: secrets.token_urlsafe(24), OTHER_TENANT: secrets.token_urlsafe(24)}
    started: list[Server] = []
    try:
        sim = start_vendor("vendor", vendor, work, tuning.rate, tuning.vendor_burst, retry_after)
        started.append(sim)
        neighbour = start_vendor("neighbour", "invicti", work, None, 1, False)
        started.append(neighbour)
        gateways, audits = [], []
        for replica in range(replicas):
            audit = work / f"audit-{replica}.jsonl"
            env = dict(shared)
            config = gateway_config(vendor, sim.url, neighbour.url, tuning, tokens, env, replicas, audit)
            path = work / f"gateway-{replica}.yaml"
            path.write_text(yaml.safe_dump(config))
            port = free_port()
            command = [sys.executable, "-c", GATEWAY_MAIN, "serve", "--config", str(path), "--host", LOOPBACK]
            server = start_server(
                f"gateway-{replica}",
                [*command, "--port", str(port)],
                port,
                log_dir=work,
                ready_path="/readyz",
                env=env,
                timeout=60,
            )
            started.append(server)
            gateways.append(server)
            audits.append(audit)
        yield SyncStack(sim, neighbour, gateways, tokens, audits)
    finally:
        for server in reversed(started):
            stop_server(server)


def shared_env(redis_url: str, database_url: str) -> dict[str, str]:
    """What every replica shares, as environment variables: the Redis URL, the directory's URL and keys."""
    return {
        "BENCH_REDIS_URL": redis_url,
        "BENCH_DIRECTORY_URL": database_url,
        "BENCH_DIRECTORY_KEY": generate_key(),
        "BENCH_DIRECTORY_INDEX_KEY": generate_key(),
    }


def default_burst(rate: float) -> int:
    """A vendor's bucket: one second of its rate."""
    return max(1, math.ceil(rate))
