"""Darktrace (`darktrace`): HMAC signing against its simulator; a SCIM face that announces and does nothing."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.config import parse_config
from gateway.inbound.serving import RunningServer, serving
from gateway.outbound.errors import VendorAuthFailed
from gateway.runtime import build_connector
from tests.resilience.harness import TEST_METRICS
from vendors.darktrace import DarktraceConnector
from vendors.hmac_auth import HmacAuth
from vendors.simulators import SIMULATORS
from vendors.simulators.base import Simulator
from vendors.simulators.darktrace import DarktraceSimSettings

TOKEN = "darktrace-test-token"
NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@contextlib.asynccontextmanager
async def appliance() -> AsyncIterator[tuple[Simulator, RunningServer, DarktraceSimSettings]]:
    spec = SIMULATORS["darktrace"]
    settings = dataclasses.replace(spec.demo_settings("acme"), clock=lambda: NOW)
    simulator = spec.create_app(settings)
    async with serving(simulator) as running:
        yield simulator, running, settings


def auth(settings: DarktraceSimSettings, clock: Callable[[], datetime] = lambda: NOW, private: str = "") -> HmacAuth:
    return HmacAuth(SecretStr(settings.public_token), SecretStr(private or settings.private_token), clock)


async def signed_get(url: str, signer: HmacAuth, tamper: dict[str, str] | None = None) -> httpx.Response:
    headers: dict[str, str] = {}
    await signer.sign("GET", url, headers)
    async with httpx.AsyncClient() as http:
        return await http.get(url, headers={**headers, **(tamper or {})})


async def test_a_signed_request_is_answered() -> None:
    async with appliance() as (_, running, settings):
        answer = await signed_get(f"{running.url}/time", auth(settings))
        assert answer.status_code == 200 and answer.json()["time"] == "2026-12-01 12:00:00"
        with_query = await signed_get(f"{running.url}/modelbreaches?minscore=0.5&from=2026-12-01", auth(settings))
        assert with_query.status_code == 200


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("wrong private token", "API SIGNATURE ERROR"),
        ("tampered signature", "API SIGNATURE ERROR"),
        ("signature of another path", "API SIGNATURE ERROR"),
        ("unknown public token", "API TOKEN ERROR"),
        ("date 31 minutes old", "API DATE ERROR"),
        ("date 31 minutes ahead", "API DATE ERROR"),
        ("no signature headers", "API SIGNATURE ERROR"),
    ],
)
async def test_bad_signatures_and_stale_dates_are_refused(case: str, error: str) -> None:
    async with appliance() as (_, running, settings):
        url, signer, tamper = f"{running.url}/time", auth(settings), None
        if case == "wrong private token":
            signer = auth(settings, private="not-the-private-token")
        elif case == "tampered signature":
            tamper = {"DTAPI-Signature": "0" * 40}
        elif case == "signature of another path":
            headers: dict[str, str] = {}
            await signer.sign("GET", f"{running.url}/status", headers)
            tamper = headers
        elif case == "unknown public token":
            tamper = {"DTAPI-Token": "someone-else"}
        elif case == "date 31 minutes old":
            signer = auth(settings, clock=lambda: NOW - timedelta(minutes=31))
        elif case == "date 31 minutes ahead":
            signer = auth(settings, clock=lambda: NOW + timedelta(minutes=31))
        if case == "no signature headers":
            async with httpx.AsyncClient() as http:
                answer = await http.get(url)
        else:
            answer = await signed_get(url, signer, tamper)
        assert answer.status_code == 401 and answer.json()["error"].startswith(error)


async def test_a_date_within_the_allowed_skew_is_accepted() -> None:
    async with appliance() as (_, running, settings):
        answer = await signed_get(f"{running.url}/status", auth(settings, clock=lambda: NOW - timedelta(minutes=29)))
        assert answer.status_code == 200


async def test_the_appliance_has_no_user_endpoints() -> None:
    async with appliance() as (_, running, settings):
        for path in ("/users", "/api/users", "/scim/v2/Users", "/rbac/users"):
            answer = await signed_get(f"{running.url}{path}", auth(settings))
            assert answer.status_code == 404, path


@pytest.mark.parametrize("stale", [False, True])
async def test_connectivity_check_signs_get_time(stale: bool) -> None:
    async with appliance() as (simulator, running, settings), aiohttp.ClientSession() as session:
        clock = (lambda: NOW - timedelta(hours=2)) if stale else (lambda: NOW)
        credentials = {"public_token": settings.public_token, "private_token": settings.private_token}
        raw = {"base_url": running.url, "credentials": credentials}
        connector = build_connector(
            DarktraceConnector, DarktraceConnector.Settings.model_validate(raw), session, "test/darktrace"
        )
        connector.upstream.auth.clock = clock  # type: ignore[attr-defined]  # HmacAuth's date source
        if stale:
            with pytest.raises(VendorAuthFailed):
                await connector.check(connector.upstream.new_budget())
        else:
            await connector.check(connector.upstream.new_budget())
        assert [(entry["method"], entry["path"], entry["auth_scheme"]) for entry in simulator.requests] == [
            ("GET", "/time", "DTAPI-HMAC")
        ]
        assert simulator.requests[0]["status"] == (401 if stale else 200)


@contextlib.asynccontextmanager
async def gateway_for_darktrace() -> AsyncIterator[tuple[httpx.AsyncClient, Simulator]]:
    async with appliance() as (simulator, running, settings):
        app = {
            "vendor": "darktrace",
            "allow_insecure_url": True,
            "base_url": running.url,
            "credentials": {"public_token": settings.public_token, "private_token": settings.private_token},
        }
        config = parse_config(
            {
                "allow_literal_secrets": True,
                "observability": TEST_METRICS,
                "tenants": {
                    "acme": {
                        "tokens": [{"name": "t", "sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}],
                        "apps": {"darktrace": app},
                    }
                },
            }
        )
        async with serving(create_app(config)) as gateway:
            base = f"{gateway.url}/tenants/acme/apps/darktrace/scim/v2"
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as scim:
                yield scim, simulator


USER_OPERATIONS: list[tuple[str, str, Any]] = [
    ("GET", "/Users", None),
    ("GET", '/Users?filter=userName eq "a@acme.example"', None),
    ("POST", "/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
    ("GET", "/Users/u-1", None),
    ("POST", "/Users", {"schemas": [USER], "userName": "a@acme.example"}),
    ("PUT", "/Users/u-1", {"schemas": [USER], "userName": "a@acme.example"}),
    ("PATCH", "/Users/u-1", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}),
    ("DELETE", "/Users/u-1", None),
    ("GET", "/Groups", None),
    ("GET", "/Groups/g-1", None),
    ("POST", "/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "X"}),
    ("PUT", "/Groups/g-1", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "X"}),
    ("PATCH", "/Groups/g-1", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}),
    ("DELETE", "/Groups/g-1", None),
]


async def test_every_user_and_group_operation_is_501_with_what_to_do_and_no_vendor_call() -> None:
    async with gateway_for_darktrace() as (scim, simulator):
        for method, path, body in USER_OPERATIONS:
            answer = await scim.request(method, path, json=body)
            assert answer.status_code == 501, (method, path, answer.text)
            error = answer.json()
            assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and error["status"] == "501"
            assert "no user-management API" in error["detail"] and "Darktrace console" in error["detail"]
        # Only the gateway's own connectivity check reached the appliance (a signed GET /time).
        assert {(entry["method"], entry["path"]) for entry in simulator.requests} <= {("GET", "/time")}


async def test_discovery_announces_nothing() -> None:
    async with gateway_for_darktrace() as (scim, _):
        resource_types = (await scim.get("/ResourceTypes")).json()
        assert resource_types["totalResults"] == 0 and resource_types["Resources"] == []
        schemas = (await scim.get("/Schemas")).json()
        assert schemas["totalResults"] == 0
        config = (await scim.get("/ServiceProviderConfig")).json()
        assert config["patch"]["supported"] is False and config["filter"]["supported"] is False
        assert config["bulk"]["supported"] is False and config["changePassword"]["supported"] is False
        assert (await scim.get("/ResourceTypes/User")).status_code == 404
