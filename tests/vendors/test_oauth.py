"""ClientCredentialsAuth (gateway/outbound/oauth.py) on a real token endpoint on loopback, and Invicti's OAuth option.

The token endpoint is the simulators' TokenIssuer (Delinea's, and Invicti's
optional one); counts are read there. Clocks are fake and shared by the
issuer and the auth, so expiry needs no sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from gateway.app import create_app
from gateway.config import parse_config
from gateway.inbound.serving import serving
from gateway.outbound.client import UpstreamClient
from gateway.outbound.errors import VendorAuthFailed, VendorUnavailable
from gateway.outbound.oauth import REFRESH_MARGIN, ClientCredentialsAuth
from tests.resilience.harness import TEST_METRICS
from tests.vendors.test_delinea_rest import TOKEN, TOKEN_SHA256, FakeClock
from vendors.simulators import SIMULATORS
from vendors.simulators.base import FaultRule, Simulator
from vendors.simulators.delinea_token import ADMIN, READ, WRITE

SECRET = "s3cret-value-never-shown"
SCOPES = {"read": READ, "write": WRITE, "admin": f"{WRITE} {ADMIN}"}


@dataclasses.dataclass
class TokenRig:
    auth: ClientCredentialsAuth
    sim: Simulator
    clock: FakeClock

    @property
    def requests(self) -> dict[str, int]:
        return dict(self.sim.issuer.requests_by_scope)  # type: ignore[attr-defined]

    def posts(self) -> int:
        return sum(1 for entry in self.sim.requests if entry["path"] == "/identity/connect/token")


@contextlib.asynccontextmanager
async def token_rig(secret: str = SECRET, lifetime: float = 300.0) -> AsyncIterator[TokenRig]:
    """A Delinea simulator whose demo client has `SECRET`, and an auth bound to a real aiohttp client."""
    clock = FakeClock()
    spec = SIMULATORS["delinea"]
    settings = dataclasses.replace(
        spec.demo_settings("acme"), client_secret=SECRET, clock=clock, token_lifetime=lifetime
    )
    sim = spec.create_app(settings)
    async with serving(sim) as server, aiohttp.ClientSession() as session:
        auth = ClientCredentialsAuth(
            token_url=server.url + "/identity/connect/token",
            client_id=settings.client_id,
            client_secret=SecretStr(secret),
            scopes=SCOPES,
            default_scope=READ,
            clock=clock,
        )
        auth.bind(lambda url, client_auth: UpstreamClient(session, url, client_auth, "test/delinea"))
        yield TokenRig(auth, sim, clock)


async def test_a_token_is_cached_until_the_refresh_margin() -> None:
    async with token_rig(lifetime=300) as rig:
        first = await rig.auth.token(READ)
        rig.clock.advance(300 - REFRESH_MARGIN - 1)
        assert await rig.auth.token(READ) == first
        rig.clock.advance(2)
        assert await rig.auth.token(READ) != first
        assert rig.requests == {READ: 2}


async def test_short_lifetimes_still_leave_half_the_lifetime() -> None:
    async with token_rig(lifetime=20) as rig:  # shorter than the margin: refresh at half-life, not at once
        first = await rig.auth.token(READ)
        rig.clock.advance(9)
        assert await rig.auth.token(READ) == first
        rig.clock.advance(2)
        assert await rig.auth.token(READ) != first


async def test_concurrent_waiters_share_one_token_request_per_scope() -> None:
    async with token_rig() as rig:
        reads = [rig.auth.token(READ) for _ in range(300)]
        writes = [rig.auth.token(WRITE) for _ in range(300)]
        tokens = await asyncio.gather(*reads, *writes)
        assert len(set(tokens[:300])) == 1 and len(set(tokens[300:])) == 1
        assert rig.requests == {READ: 1, WRITE: 1}


async def test_a_failed_refresh_is_shared_by_its_waiters_and_not_cached() -> None:
    async with token_rig() as rig:
        rig.sim.add_fault(FaultRule(status=400, path="/identity/connect/token", body={"error": "invalid_client"}))
        outcomes = await asyncio.gather(*(rig.auth.token(READ) for _ in range(100)), return_exceptions=True)
        assert all(isinstance(outcome, VendorAuthFailed) for outcome in outcomes)
        assert rig.posts() == 1
        assert await rig.auth.token(READ)  # the endpoint recovered: a new flight, not a cached failure
        assert rig.posts() == 2


async def test_an_unavailable_token_endpoint_is_retryable_and_one_flight() -> None:
    async with token_rig() as rig:
        rig.sim.add_fault(FaultRule(status=503, path="/identity/connect/token", times=-1))
        one = await asyncio.gather(rig.auth.token(READ), return_exceptions=True)
        single = rig.posts()
        many = await asyncio.gather(*(rig.auth.token(READ) for _ in range(50)), return_exceptions=True)
        assert isinstance(one[0], VendorUnavailable) and all(isinstance(o, VendorUnavailable) for o in many)
        assert rig.posts() <= 2 * single  # 50 waiters cost (at most) what one does
        assert SECRET not in str(one[0]) and "token endpoint is unavailable" in str(one[0])


async def test_a_cancelled_waiter_does_not_cancel_the_refresh_the_others_wait_for() -> None:
    async with token_rig() as rig:
        rig.sim.add_fault(FaultRule(latency=0.2, path="/identity/connect/token"))
        first = asyncio.ensure_future(rig.auth.token(READ))
        second = asyncio.ensure_future(rig.auth.token(READ))
        await asyncio.sleep(0.05)
        first.cancel()
        assert await second
        assert rig.requests == {READ: 1}


async def test_invalidate_drops_only_the_token_the_failed_request_used() -> None:
    async with token_rig() as rig:

        async def signed_then_refused(purpose: str) -> None:
            headers: dict[str, str] = {}
            signed = await rig.auth.sign("GET", "http://x", headers, purpose)
            rig.auth.invalidate(signed)  # as UpstreamClient does after a 401, with what the request was signed with

        await rig.auth.token(READ)
        await rig.auth.token(WRITE)
        await asyncio.create_task(signed_then_refused("read"))
        assert await rig.auth.token(WRITE) and rig.requests == {READ: 1, WRITE: 1}  # write token kept
        fresh = await rig.auth.token(READ)
        assert rig.requests == {READ: 2, WRITE: 1}

        stale_task_token = {}

        async def stale() -> None:
            headers: dict[str, str] = {}
            await rig.auth.sign("GET", "http://x", headers, "read")
            stale_task_token["value"] = headers["Authorization"]

        await asyncio.create_task(stale())
        assert stale_task_token["value"] == f"Bearer {fresh}"


async def test_a_burst_of_401s_for_one_revoked_token_causes_one_refresh() -> None:
    async with token_rig() as rig:
        burst = [await rig.auth.sign("GET", "http://x", {}, "read") for _ in range(20)]  # all with one token
        assert rig.requests == {READ: 1}
        assert rig.auth.invalidate(burst[0])  # the first 401 drops the revoked token...
        fresh = await rig.auth.token(READ)
        assert rig.requests == {READ: 2}
        for signed in burst[1:]:  # ...the later 401s for that same token leave the fresh one alone
            assert rig.auth.invalidate(signed)
        assert await rig.auth.token(READ) == fresh and rig.requests == {READ: 2}
        assert burst[0].token not in repr(burst[0])  # what a request was signed with is never printed


async def test_scopes_are_requested_per_purpose_and_the_secret_stays_hidden() -> None:
    async with token_rig() as rig:
        for purpose in ("read", "write", "admin", None):
            await rig.auth.sign("GET", "http://x", {}, purpose)
        assert rig.requests == {READ: 1, WRITE: 1, f"{WRITE} {ADMIN}": 1}
        assert SECRET not in repr(rig.auth) and SECRET not in str(vars(rig.auth).get("_secret"))


async def test_a_refused_grant_names_the_scope_but_never_the_secret() -> None:
    async with token_rig(secret="wrong-secret-abc") as rig:
        with pytest.raises(VendorAuthFailed) as refused:
            await rig.auth.token(WRITE)
        assert WRITE in refused.value.detail and "wrong-secret-abc" not in refused.value.detail


# --- Invicti Platform with OAuth2 client credentials -------------------------------------------


@contextlib.asynccontextmanager
async def invicti_pair() -> AsyncIterator[tuple[httpx.AsyncClient, str, Simulator, FakeClock]]:
    """A second Invicti simulator with a token endpoint; the gateway has an OAuth app and a bearer app on it."""
    clock = FakeClock()
    spec = SIMULATORS["invicti"]
    settings = dataclasses.replace(
        spec.demo_settings("initech"), oauth_client=("initech-gateway", SECRET), clock=clock, token_lifetime=120
    )
    sim = spec.create_app(settings)
    async with serving(sim) as server:
        scim_url = server.url + spec.scim_base_path(settings)
        apps: dict[str, Any] = {
            "invicti": {
                "vendor": "invicti",
                "allow_insecure_url": True,
                "base_url": scim_url,
                "credentials": {"client_id": "initech-gateway", "client_secret": SECRET},
                "token_url": server.url + "/oauth/token",
            },
            "invicti-bearer": {
                "vendor": "invicti",
                "allow_insecure_url": True,
                "base_url": scim_url,
                "credentials": {"token": settings.scim_token},
            },
        }
        config = parse_config(
            {
                "allow_literal_secrets": True,
                "observability": TEST_METRICS,
                "tenants": {"acme": {"tokens": [{"name": "t", "sha256": TOKEN_SHA256}], "apps": apps}},
            }
        )
        app = create_app(config)
        async with serving(app) as gateway:
            runtime = app.state.runtime.tenants["acme"]
            runtime.apps["invicti"].auth.clock = clock
            for _ in range(500):  # bounded wait for the start-up connectivity checks
                if all(a.health.checked for a in runtime.apps.values()):
                    break
                await asyncio.sleep(0.01)
            runtime.apps["invicti"].auth.invalidate(None)
            sim.issuer.requests_by_scope.clear()  # type: ignore[attr-defined]
            sim.issuer.issued = 0  # type: ignore[attr-defined]
            sim.requests.clear()
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http:
                yield http, f"{gateway.url}/tenants/acme/apps", sim, clock


def _token_posts(sim: Simulator) -> list[dict[str, Any]]:
    return [entry for entry in sim.requests if entry["path"] == "/oauth/token"]


async def test_invicti_oauth_app_fetches_tokens_and_refreshes_them_once() -> None:
    async with invicti_pair() as (http, apps, sim, clock):
        for _ in range(3):
            answer = await http.get(f"{apps}/invicti/scim/v2/Users")
            assert answer.status_code == 200 and answer.json()["totalResults"] == 5
        assert sim.issuer.requests_by_scope == {"": 1}  # type: ignore[attr-defined]  # no scope configured: none sent
        clock.advance(121)
        answers = await asyncio.gather(*(http.get(f"{apps}/invicti/scim/v2/Users?count=1") for _ in range(50)))
        assert {a.status_code for a in answers} == {200}
        assert sim.issuer.issued == 2  # type: ignore[attr-defined]
        assert len(_token_posts(sim)) == 2
        assert (await http.get(f"{apps}/invicti-bearer/scim/v2/Users")).status_code == 200  # static bearer still works
        assert {e["auth_scheme"] for e in sim.requests if e["path"].startswith("/api/scim")} == {"Bearer"}
        assert all(entry["status"] == 200 for entry in _token_posts(sim))


async def test_invicti_oauth_token_endpoint_failure_is_a_scim_503_without_the_secret() -> None:
    async with invicti_pair() as (http, apps, sim, _clock):
        sim.add_fault(FaultRule(status=503, path="/oauth/token", times=-1))
        answer = await http.get(f"{apps}/invicti/scim/v2/Users")
        assert answer.status_code == 503 and "token endpoint" in answer.json()["detail"]
        assert SECRET not in answer.text
        assert not [e for e in sim.requests if e["path"].startswith("/api/scim")]


def test_invicti_oauth_needs_a_token_url() -> None:
    from gateway.apps import vendor_apps
    from gateway.secrets import ConfigError

    app = {
        "vendor": "invicti",
        "base_url": "https://i.example/api/scim/v2",
        "credentials": {"client_id": "a", "client_secret": "b"},
    }
    raw = {
        "allow_literal_secrets": True,
        "tenants": {"acme": {"tokens": [{"name": "t", "sha256": TOKEN_SHA256}], "apps": {"i": app}}},
    }
    with pytest.raises(ConfigError, match="token_url is required"):
        vendor_apps(parse_config(raw))


async def test_scim2_tester_passes_on_the_invicti_oauth_app() -> None:
    from tests.conformance import check, exercised, failing

    async with invicti_pair() as (_http, apps, sim, _clock):
        results = await asyncio.to_thread(check, f"{apps}/invicti/scim/v2", TOKEN)
        assert sim.issuer.issued == 1  # type: ignore[attr-defined]  # the whole run on one cached token
    assert exercised(results) == {"User", "Group"}
    assert failing(results) == []


async def test_a_token_granted_other_scopes_than_asked_is_logged_once_per_scope() -> None:
    async with token_rig() as rig:
        # RFC 6749 section 3.3: a server may issue fewer scopes than asked; this one grants what the client holds.
        rig.sim.issuer.clients = {  # type: ignore[attr-defined]
            cid: dataclasses.replace(client, scopes=(READ, WRITE))
            for cid, client in rig.sim.issuer.clients.items()  # type: ignore[attr-defined]
        }
        rig.sim.issuer.downscope = True  # type: ignore[attr-defined]
        asked = SCOPES["admin"]
        with capture_logs() as events:
            await rig.auth.token(asked)
            rig.clock.advance(300)  # expired: asked again, granted the same narrower scope again
            await rig.auth.token(asked)
            await rig.auth.token(READ)  # granted as asked: nothing to say
    warnings = [event for event in events if event["event"] == "oauth_scope_differs"]
    assert rig.requests == {asked: 2, READ: 1}
    assert warnings == [
        {
            "event": "oauth_scope_differs",
            "log_level": "warning",
            "app": "test/delinea",
            "requested_scope": asked,
            "granted_scope": WRITE,
        }
    ]
