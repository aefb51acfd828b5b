"""A gateway whose acme/darktrace app is in `mode: manual`, its directory on SQLite or PostgreSQL, the Darktrace
simulator on loopback (the app's connectivity check), and the audit in a file the tests read."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.config import parse_config
from gateway.inbound.auth import hash_token
from gateway.inbound.serving import RunningServer, serving
from gateway.runtime import Runtime
from tests.backed.harness import directory_section, scim_client
from tests.resilience.harness import TEST_OBSERVABILITY, TOKENS
from vendors.registry import simulator

FULFILMENT = "urn:ietf:params:scim:schemas:extension:scim-gateway:2.0:Fulfilment"


@dataclass
class ManualGateway:
    gateway: RunningServer
    app: Starlette
    config: dict[str, Any]
    audit_file: Path

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def client(self, app: str = "darktrace") -> httpx.AsyncClient:
        return scim_client(self.gateway, app)


def audit_records(path: Path, kind: str = "work_item") -> list[dict[str, Any]]:
    """The audit records of `kind` in the file (read once the gateway has stopped: its log is flushed then)."""
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return [line for line in lines if line.get("kind") == kind]


def manual_config(
    database_url: str, keys: dict[str, str], darktrace_url: str, audit_file: Path, **app_options: Any
) -> dict[str, Any]:
    settings = simulator("darktrace").demo_settings("acme")
    return {
        "allow_literal_secrets": True,
        "observability": {**TEST_OBSERVABILITY, "audit": {"file": str(audit_file), "user_name": "hashed"}},
        "directory": directory_section(database_url, keys),
        "tenants": {
            "acme": {
                "tokens": [{"name": "test", "sha256": hash_token(TOKENS["acme"])}],
                "apps": {
                    "darktrace": {
                        "vendor": "darktrace",
                        "mode": "manual",
                        "allow_insecure_url": True,
                        "base_url": darktrace_url,
                        "credentials": simulator("darktrace").demo_credentials(settings),
                        **app_options,
                    }
                },
            }
        },
    }


@contextlib.asynccontextmanager
async def manual_gateway(
    database_url: str, keys: dict[str, str], audit_file: Path, **app_options: Any
) -> AsyncIterator[ManualGateway]:
    darktrace = simulator("darktrace")
    async with serving(darktrace.create_app(darktrace.demo_settings("acme"))) as appliance:
        raw = manual_config(database_url, keys, appliance.url, audit_file, **app_options)
        app = create_app(parse_config(raw))
        async with serving(app) as server:
            yield ManualGateway(server, app, raw, audit_file)
