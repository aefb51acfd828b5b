"""acme/delinea end to end: gateway -> Delinea REST simulator over loopback HTTP.

What is counted is counted at the simulator (its token issuer and request
log), never inside the gateway: token requests by scope, REST calls and the
query strings the gateway sent. Token expiry is driven by one fake clock
shared by the simulator's issuer and the gateway's ClientCredentialsAuth, so
nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import parse_config
from gateway.inbound.serving import serving
from tests import idp_runner
from tests.conformance import check, exercised, failing
from tests.idp_traffic import ENTERPRISE, ENTRA_SEQUENCE, OKTA_SEQUENCE, USER_SCHEMA
from tests.resilience.harness import TEST_METRICS
from vendors.simulators import SIMULATORS
from vendors.simulators.base import FaultRule, Simulator
from vendors.simulators.delinea_rest import ROLES
from vendors.simulators.delinea_token import ADMIN, READ, WRITE

TOKEN = "acme-demo-token"
TOKEN_SHA256 = "79665b9580ab672b11d07c958da63e90a03b2b9fbf6365b47972b7d1762406a7"
WRITE_ADMIN = f"{WRITE} {ADMIN}"
SCIM_JSON = {"Content-Type": "application/scim+json"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclasses.dataclass
class Stack:
    sim: Simulator
    sim_url: str
    scim: str
    http: httpx.AsyncClient
    clock: FakeClock
    gateway_app: Any
    secret: str

    @property
    def auth(self) -> Any:
        return self.gateway_app.state.runtime.tenants["acme"].apps["delinea"].auth

    def token_requests(self) -> dict[str, int]:
        return dict(self.sim.issuer.requests_by_scope)  # type: ignore[attr-defined]

    def rest_calls(self, method: str | None = None) -> list[dict[str, Any]]:
        return [
            entry
            for entry in self.sim.requests
            if entry["path"].startswith("/api/v1/") and (method is None or entry["method"] == method)
        ]

    def rest_users(self) -> list[dict[str, Any]]:
        return list(self.sim.rest.users.values())  # type: ignore[attr-defined]

    async def settle(self) -> None:
        """Wait (bounded) for the start-up health check, then forget its token and the counts it left."""
        app = self.gateway_app.state.runtime.tenants["acme"].apps["delinea"]
        for _ in range(500):
            if app.health.checked:
                break
            await asyncio.sleep(0.01)
        assert app.health.checked, "the start-up connectivity check did not finish"
        app.auth.invalidate(None)  # each test starts with no cached token
        self.sim.issuer.requests_by_scope.clear()  # type: ignore[attr-defined]
        self.sim.requests.clear()


@contextlib.asynccontextmanager
async def delinea_stack(client_secret: str | None = None, **sim: Any) -> AsyncIterator[Stack]:
    """The Delinea simulator (settings overridden by `sim`) behind a gateway with one app, acme/delinea."""
    clock = FakeClock()
    spec = SIMULATORS["delinea"]
    settings = dataclasses.replace(spec.demo_settings("acme"), clock=clock, **sim)
    simulator = spec.create_app(settings)
    async with serving(simulator) as sim_server:
        config = parse_config(
            {
                "allow_literal_secrets": True,
                "observability": TEST_METRICS,
                "tenants": {
                    "acme": {
                        "tokens": [{"name": "test", "sha256": TOKEN_SHA256}],
                        "apps": {
                            "delinea": {
                                "vendor": "delinea",
                                "allow_insecure_url": True,
                                "base_url": sim_server.url,
                                "roles": list(ROLES),
                                "credentials": {
                                    "client_id": settings.client_id,
                                    "client_secret": client_secret or settings.client_secret,
                                },
                            }
                        },
                    }
                },
            }
        )
        app = create_app(config)
        async with serving(app) as gateway:
            app.state.runtime.tenants["acme"].apps["delinea"].auth.clock = clock
            base = f"{gateway.url}/tenants/acme/apps/delinea/scim/v2"
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx.AsyncClient(headers=headers, timeout=30) as http:
                stack = Stack(simulator, sim_server.url, base, http, clock, app, settings.client_secret)
                await stack.settle()
                yield stack


def full_user(user_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": user_name,
        "externalId": f"ext-{user_name}",
        "displayName": "Grace Hopper",
        "name": {"givenName": "Grace", "familyName": "Hopper"},
        "emails": [
            {"value": user_name, "type": "work", "primary": True},
            {"value": "grace@home.example", "type": "home"},
        ],
        "phoneNumbers": [{"value": "+1-202-555-0100", "type": "mobile", "primary": True}],
        "title": "Rear Admiral",
        "active": True,
        "roles": [{"value": "Auditor"}],
        ENTERPRISE: {"department": "Navy", "manager": {"value": "manager-id-1"}},
        **extra,
    }


# --- token: single flight, refresh on 401, failures ------------------------------------------


async def test_500_concurrent_requests_after_expiry_cause_one_token_request() -> None:
    async with delinea_stack() as stack:
        user_id = stack.rest_users()[0]["id"]
        assert (await stack.http.get(f"{stack.scim}/Users/{user_id}")).status_code == 200
        assert stack.token_requests() == {READ: 1}
        stack.clock.advance(301)  # past the simulator's 300 s lifetime, for the gateway too
        stack.sim.requests.clear()

        answers = await asyncio.gather(*(stack.http.get(f"{stack.scim}/Users/{user_id}") for _ in range(500)))

        assert [a.status_code for a in answers] == [200] * 500
        assert stack.token_requests() == {READ: 2}
        assert {entry["status"] for entry in stack.rest_calls()} == {200}  # expiry known: no 401 round trips


async def test_token_is_reused_until_shortly_before_expiry() -> None:
    async with delinea_stack() as stack:
        await stack.http.get(f"{stack.scim}/Users?count=1")
        stack.clock.advance(260)  # 40 s left: still good
        await stack.http.get(f"{stack.scim}/Users?count=1")
        assert stack.token_requests() == {READ: 1}
        stack.clock.advance(15)  # 25 s left: inside the refresh margin
        await stack.http.get(f"{stack.scim}/Users?count=1")
        assert stack.token_requests() == {READ: 2}


async def test_a_401_triggers_one_refresh_and_one_resend() -> None:
    async with delinea_stack() as stack:
        await stack.http.get(f"{stack.scim}/Users?count=1")
        stack.sim.issuer.revoke_all()  # type: ignore[attr-defined]  # the gateway still thinks its token is good
        stack.sim.requests.clear()

        answer = await stack.http.get(f"{stack.scim}/Users?count=1")

        assert answer.status_code == 200
        log = [(entry["method"], entry["path"], entry["status"]) for entry in stack.sim.requests]
        assert log == [
            ("GET", "/api/v1/users", 401),
            ("POST", "/identity/connect/token", 200),
            ("GET", "/api/v1/users", 200),
        ]


async def test_a_burst_of_401s_for_one_revoked_token_causes_one_refresh() -> None:
    async with delinea_stack() as stack:
        user_id = stack.rest_users()[0]["id"]
        await stack.http.get(f"{stack.scim}/Users/{user_id}")
        stack.sim.issuer.revoke_all()  # type: ignore[attr-defined]
        stack.sim.issuer.requests_by_scope.clear()  # type: ignore[attr-defined]
        stack.sim.requests.clear()
        # Half the stale requests reach Delinea (and get their 401) only after the refresh has landed:
        # their 401 must not throw the fresh token away.
        stack.sim.add_fault(FaultRule(latency=0.3, path="/api/v1/users/", times=50))

        answers = await asyncio.gather(*(stack.http.get(f"{stack.scim}/Users/{user_id}") for _ in range(100)))

        assert [a.status_code for a in answers] == [200] * 100
        assert stack.token_requests() == {READ: 1}
        statuses = [entry["status"] for entry in stack.rest_calls()]
        assert statuses.count(200) == 100 and statuses.count(401) <= 100


async def test_a_second_401_after_the_refresh_is_a_502_not_a_loop() -> None:
    async with delinea_stack() as stack:
        stack.sim.add_fault(FaultRule(status=401, path="/api/v1/users", times=2))

        answer = await stack.http.get(f"{stack.scim}/Users?count=1")

        assert answer.status_code == 502
        assert "refused the gateway's credential" in answer.json()["detail"]
        assert [entry["status"] for entry in stack.rest_calls()] == [401, 401]
        assert stack.token_requests() == {READ: 2}  # the first token, then exactly one refresh


async def test_token_endpoint_down_is_a_clear_503_and_the_secret_never_leaks(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with delinea_stack() as stack:
        stack.auth.invalidate(None)
        stack.sim.add_fault(FaultRule(status=503, path="/identity/connect/token", times=-1))

        answer = await stack.http.get(f"{stack.scim}/Users?count=1")
        one = _posts(stack)  # one refresh, however many attempts the gateway's retry policy makes
        stack.sim.requests.clear()
        burst = await asyncio.gather(*(stack.http.get(f"{stack.scim}/Users?count=1") for _ in range(50)))

        assert answer.status_code == 503
        body = answer.json()
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert "token endpoint is unavailable" in body["detail"]
        assert answer.headers.get("Retry-After")
        assert {a.status_code for a in burst} == {503}
        assert _posts(stack) <= one, "waiters must share the failing refresh, not each retry it"
        assert stack.rest_calls() == []  # nothing was sent to the API without a token
        leaked = [a.text for a in (answer, *burst) if stack.secret in a.text]
    captured = capfd.readouterr()  # file-descriptor level: also what structlog and the audit writer print
    logs = caplog.text + captured.out + captured.err
    assert not leaked
    assert "token endpoint is unavailable" in logs or '"status":503' in logs, "no log captured: the check is vacuous"
    assert stack.secret not in logs
    assert stack.secret not in str(list(stack.sim.requests))  # sent in the form body, never in a URL


def _posts(stack: Stack) -> int:
    return sum(1 for entry in stack.sim.requests if entry["path"] == "/identity/connect/token")


async def test_a_refused_client_secret_is_a_502_that_names_no_secret() -> None:
    async with delinea_stack(client_secret="not-the-secret-xyz") as stack:
        answer = await stack.http.get(f"{stack.scim}/Users?count=1")
        assert answer.status_code == 502
        assert "refused the client-credentials grant" in answer.json()["detail"]
        assert "not-the-secret-xyz" not in answer.text and stack.secret not in answer.text


# --- least privilege ---------------------------------------------------------------------------


async def test_reads_only_ever_ask_for_the_read_scope() -> None:
    async with delinea_stack() as stack:
        user = stack.rest_users()[0]
        await stack.http.get(f"{stack.scim}/Users")
        await stack.http.get(f"{stack.scim}/Users/{user['id']}")
        await stack.http.get(f"{stack.scim}/Users", params={"filter": f'userName eq "{user["userName"]}"'})
        await stack.http.get(f"{stack.scim}/Users", params={"filter": "title pr", "count": "500"})
        await stack.http.post(f"{stack.scim}/Users/.search", json={"filter": "active eq true"}, headers=SCIM_JSON)
        assert stack.token_requests() == {READ: 1}


async def test_writes_ask_for_write_and_only_role_changes_for_admin() -> None:
    async with delinea_stack() as stack:
        plain = {
            "schemas": [USER_SCHEMA],
            "userName": "plain@acme.example",
            "emails": [{"value": "plain@acme.example"}],
        }
        created = (await stack.http.post(f"{stack.scim}/Users", json=plain, headers=SCIM_JSON)).json()
        assert stack.token_requests() == {WRITE: 1}

        deactivate = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        }
        answer = await stack.http.patch(f"{stack.scim}/Users/{created['id']}", json=deactivate, headers=SCIM_JSON)
        assert answer.status_code == 200 and answer.json()["active"] is False
        assert set(stack.token_requests()) == {WRITE, READ}  # the PATCH read the user, then wrote it

        with_role = {**plain, "roles": [{"value": "Auditor"}]}
        answer = await stack.http.put(f"{stack.scim}/Users/{created['id']}", json=with_role, headers=SCIM_JSON)
        assert answer.status_code == 200 and answer.json()["roles"] == [{"value": "Auditor"}]
        assert stack.token_requests()[WRITE_ADMIN] == 1

        same_role = {**with_role, "displayName": "Plain"}
        await stack.http.put(f"{stack.scim}/Users/{created['id']}", json=same_role, headers=SCIM_JSON)
        assert stack.token_requests()[WRITE] == 1 and stack.token_requests()[WRITE_ADMIN] == 1  # cached, no admin ask

        assert (await stack.http.delete(f"{stack.scim}/Users/{created['id']}")).status_code == 204
        assert stack.token_requests() == {READ: 1, WRITE: 1, WRITE_ADMIN: 1}


async def test_create_with_roles_asks_for_admin() -> None:
    async with delinea_stack() as stack:
        answer = await stack.http.post(f"{stack.scim}/Users", json=full_user("r@acme.example"), headers=SCIM_JSON)
        assert answer.status_code == 201
        assert stack.token_requests() == {WRITE_ADMIN: 1}


async def test_a_read_only_api_client_reads_and_gets_a_clear_502_on_writes() -> None:
    async with delinea_stack(client_scopes=(READ,)) as stack:
        assert (await stack.http.get(f"{stack.scim}/Users")).status_code == 200
        body = {"schemas": [USER_SCHEMA], "userName": "w@acme.example", "emails": [{"value": "w@acme.example"}]}
        answer = await stack.http.post(f"{stack.scim}/Users", json=body, headers=SCIM_JSON)
        assert answer.status_code == 502
        assert WRITE in answer.json()["detail"] and "granted scopes" in answer.json()["detail"]
        assert stack.rest_calls("POST") == []


# --- paging and filters --------------------------------------------------------------------------


async def test_count_1000_over_1050_users_returns_1000_with_the_right_total() -> None:
    async with delinea_stack(rest_users=1050) as stack:
        answer = (await stack.http.get(f"{stack.scim}/Users", params={"count": "1000"})).json()

        assert answer["totalResults"] == 1050 and answer["itemsPerPage"] == 1000
        ids = [resource["id"] for resource in answer["Resources"]]
        assert ids == [user["id"] for user in stack.rest_users()[:1000]]
        takes = [int(_query(entry)["take"]) for entry in stack.rest_calls("GET")]
        assert len(takes) == 10 and max(takes) == 100


async def test_a_start_index_in_the_middle_pages_from_there() -> None:
    async with delinea_stack(rest_users=1050) as stack:
        answer = (await stack.http.get(f"{stack.scim}/Users", params={"startIndex": "501", "count": "1000"})).json()
        expected = [user["id"] for user in stack.rest_users()[500:]]
        assert answer["totalResults"] == 1050 and answer["startIndex"] == 501
        assert [resource["id"] for resource in answer["Resources"]] == expected  # 550, nothing past the total
        skips = sorted(int(_query(entry)["skip"]) for entry in stack.rest_calls("GET"))
        assert skips == [500, 600, 700, 800, 900, 1000]

        small = (await stack.http.get(f"{stack.scim}/Users", params={"startIndex": "777", "count": "3"})).json()
        assert [r["id"] for r in small["Resources"]] == [u["id"] for u in stack.rest_users()[776:779]]


def _query(entry: dict[str, Any]) -> dict[str, str]:
    return dict(httpx.QueryParams(entry["query"]))


async def test_username_eq_goes_upstream() -> None:
    async with delinea_stack(rest_users=300) as stack:
        wanted = stack.rest_users()[250]["userName"]
        answer = (await stack.http.get(f"{stack.scim}/Users", params={"filter": f'userName eq "{wanted}"'})).json()
        assert answer["totalResults"] == 1 and answer["Resources"][0]["userName"] == wanted
        calls = stack.rest_calls("GET")
        assert len(calls) == 1 and _query(calls[0])["filter"] == f"userName eq '{wanted}'"


async def test_a_quote_in_the_username_is_escaped_for_delinea() -> None:
    async with delinea_stack() as stack:
        name = "o'brien@acme.example"
        body = {"schemas": [USER_SCHEMA], "userName": name, "emails": [{"value": name}]}
        assert (await stack.http.post(f"{stack.scim}/Users", json=body, headers=SCIM_JSON)).status_code == 201
        stack.sim.requests.clear()
        answer = (await stack.http.get(f"{stack.scim}/Users", params={"filter": f'userName eq "{name}"'})).json()
        assert [r["userName"] for r in answer["Resources"]] == [name]
        assert _query(stack.rest_calls("GET")[0])["filter"] == "userName eq 'o''brien@acme.example'"


async def test_other_filters_are_evaluated_by_the_gateway() -> None:
    async with delinea_stack(rest_users=230) as stack:
        users = stack.rest_users()
        for user in users[::7]:
            user["active"] = False
        inactive = [u["id"] for u in users if not u["active"]]
        answer = (
            await stack.http.get(f"{stack.scim}/Users", params={"filter": "active eq false", "count": "50"})
        ).json()
        assert answer["totalResults"] == len(inactive) == 33
        assert [r["id"] for r in answer["Resources"]] == inactive
        assert all("filter" not in _query(entry) for entry in stack.rest_calls("GET"))

        given = users[3]["name"]["givenName"]
        expected = [u["id"] for u in users if u["name"]["givenName"] == given and u["active"]]
        query = f'name.givenName eq "{given}" and active eq true'
        answer = (await stack.http.get(f"{stack.scim}/Users", params={"filter": query, "startIndex": "2"})).json()
        assert answer["totalResults"] == len(expected) and [r["id"] for r in answer["Resources"]] == expected[1:]

        work = users[10]["emails"][0]["value"]
        query = f'emails[type eq "work"].value eq "{work}"'
        answer = (await stack.http.get(f"{stack.scim}/Users", params={"filter": query})).json()
        assert [r["id"] for r in answer["Resources"]] == [users[10]["id"]]

        # userName with another operator is not Delinea's filter: the gateway evaluates it
        answer = (await stack.http.get(f"{stack.scim}/Users", params={"filter": f'userName sw "{work[:6]}"'})).json()
        assert answer["totalResults"] == sum(1 for u in users if u["userName"].startswith(work[:6]))


# --- user model, lifecycle -----------------------------------------------------------------------


async def test_the_full_user_model_round_trips() -> None:
    async with delinea_stack() as stack:
        sent = full_user("grace@acme.example")
        created = await stack.http.post(f"{stack.scim}/Users", json=sent, headers=SCIM_JSON)
        assert created.status_code == 201, created.text
        got = (await stack.http.get(f"{stack.scim}/Users/{created.json()['id']}")).json()

        for key in ("userName", "externalId", "displayName", "name", "emails", "phoneNumbers", "title", "active"):
            assert got[key] == sent[key], key
        assert got["roles"] == [{"value": "Auditor"}]
        assert got[ENTERPRISE] == {"department": "Navy", "manager": {"value": "manager-id-1"}}
        assert set(got["schemas"]) == {USER_SCHEMA, ENTERPRISE}
        assert got["meta"]["created"] and got["meta"]["lastModified"]

        stored = next(u for u in stack.rest_users() if u["id"] == got["id"])
        assert stored["department"] == "Navy" and stored["manager"] == {"value": "manager-id-1"}
        assert stored["roles"] == ["Auditor"] and stored["name"] == {"givenName": "Grace", "familyName": "Hopper"}
        assert {entry["auth_scheme"] for entry in stack.rest_calls()} == {"Bearer"}


async def test_patch_active_false_deactivates_and_delete_is_permanent() -> None:
    async with delinea_stack() as stack:
        user = stack.rest_users()[0]
        deactivate = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        }
        answer = await stack.http.patch(f"{stack.scim}/Users/{user['id']}", json=deactivate, headers=SCIM_JSON)
        assert answer.status_code == 200 and answer.json()["active"] is False
        assert stack.sim.rest.users[user["id"]]["active"] is False  # type: ignore[attr-defined]
        assert [e["method"] for e in stack.rest_calls() if e["method"] != "GET"] == ["PATCH"]

        assert (await stack.http.delete(f"{stack.scim}/Users/{user['id']}")).status_code == 204
        assert user["id"] not in stack.sim.rest.users  # type: ignore[attr-defined]
        assert (await stack.http.get(f"{stack.scim}/Users/{user['id']}")).status_code == 404


async def test_duplicate_username_is_409_and_missing_email_is_400() -> None:
    async with delinea_stack() as stack:
        taken = stack.rest_users()[0]["userName"]
        body = {"schemas": [USER_SCHEMA], "userName": taken.upper(), "emails": [{"value": "x@acme.example"}]}
        answer = await stack.http.post(f"{stack.scim}/Users", json=body, headers=SCIM_JSON)
        assert answer.status_code == 409 and answer.json()["scimType"] == "uniqueness"
        answer = await stack.http.post(
            f"{stack.scim}/Users", json={"schemas": [USER_SCHEMA], "userName": "noemail"}, headers=SCIM_JSON
        )
        assert answer.status_code == 400 and "email" in answer.json()["detail"]


async def test_discovery_announces_users_only_and_groups_are_501_before_any_vendor_call() -> None:
    async with delinea_stack() as stack:
        types = (await stack.http.get(f"{stack.scim}/ResourceTypes")).json()
        assert [resource["name"] for resource in types["Resources"]] == ["User"]
        assert (await stack.http.get(f"{stack.scim}/ResourceTypes/Group")).status_code == 404
        for method, path in (("GET", "/Groups"), ("POST", "/Groups"), ("PATCH", "/Groups/x"), ("DELETE", "/Groups/x")):
            answer = await stack.http.request(method, stack.scim + path, json={} if method != "GET" else None)
            assert answer.status_code == 501, (method, path)
            assert "serves Users only" in answer.json()["detail"]
        assert list(stack.sim.requests) == []


# --- IdP sequences and conformance ---------------------------------------------------------------

#: Attributes the IdP sequences expect back that Delinea's user model does not hold (its guide's table).
NOT_HELD = ("name.middleName", "nickName", f"{ENTERPRISE}:employeeNumber", "addresses[")


def _delinea_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sequence as acme/delinea must answer it: Group steps 501; unheld attributes not expected back."""
    adapted = []
    for step in steps:
        step = dict(step)
        if step["path"].startswith("/Groups"):
            step.update(expect_status=501, capture=None, expect_body=None)
        elif step.get("expect_body"):
            step["expect_body"] = {k: v for k, v in step["expect_body"].items() if not k.startswith(NOT_HELD)}
        adapted.append(step)
    return adapted


@pytest.mark.parametrize("sequence", [OKTA_SEQUENCE, ENTRA_SEQUENCE], ids=["okta", "entra"])
async def test_idp_sequences_pass_through_acme_delinea(sequence: list[dict[str, Any]]) -> None:
    async with delinea_stack() as stack:
        run = idp_runner.Replay.fresh(TOKEN)
        await idp_runner.replay(stack.http, stack.scim, _delinea_steps(sequence), run)
        group_paths = {e["path"] for e in stack.sim.requests if "roup" in e["path"]}
        assert group_paths == set()
        user_id = run.values["{userId}"]
        stored = [u for u in stack.rest_users() if u["id"] == user_id]
        if sequence is ENTRA_SEQUENCE:
            assert stored == []  # deleted at the end, permanently
        else:
            assert stored[0]["active"] is False and stored[0]["userName"] == run.values["{userName}"]


async def test_scim2_tester_finds_no_failures() -> None:
    """Delinea's `active` "defaults true": every user has one, so discovery marks it required and
    scim2-tester does not expect a PATCH to remove it (it would read back true)."""
    async with delinea_stack() as stack:
        results = await asyncio.to_thread(check, stack.scim, TOKEN)
        assert {e["auth_scheme"] for e in stack.rest_calls()} == {"Bearer"}
    assert exercised(results) == {"User"}
    assert failing(results) == []


async def test_discovery_announces_only_what_delinea_holds() -> None:
    async with delinea_stack() as stack:
        core = (await stack.http.get(f"{stack.scim}/Schemas/{USER_SCHEMA}")).json()
        enterprise = (await stack.http.get(f"{stack.scim}/Schemas/{ENTERPRISE}")).json()
    attributes = {a["name"]: a for a in core["attributes"]}
    assert "nickName" not in attributes and "password" not in attributes and "addresses" not in attributes
    assert [sub["name"] for sub in attributes["name"]["subAttributes"]] == ["familyName", "givenName"]
    assert attributes["emails"]["required"] is True
    roles = {sub["name"]: sub for sub in attributes["roles"]["subAttributes"]}
    assert list(roles) == ["value"] and roles["value"]["canonicalValues"] == list(ROLES)
    assert [a["name"] for a in enterprise["attributes"]] == ["department", "manager"]


# --- the simulator's own contract (what the gateway is tested against) --------------------------


@contextlib.asynccontextmanager
async def bare_simulator(**sim: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any, Simulator]]:
    clock = FakeClock()
    spec = SIMULATORS["delinea"]
    settings = dataclasses.replace(spec.demo_settings("acme"), clock=clock, **sim)
    simulator = spec.create_app(settings)
    async with serving(simulator) as server, httpx.AsyncClient(base_url=server.url) as http:
        yield http, settings, simulator


async def _grant(http: httpx.AsyncClient, settings: Any, scope: str, secret: str | None = None) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.client_id,
        "client_secret": secret or settings.client_secret,
        "scope": scope,
    }
    return await http.post("/identity/connect/token", data=form)


async def test_simulator_token_endpoint_refuses_unknown_clients_and_ungranted_scopes() -> None:
    async with bare_simulator(client_scopes=(READ, WRITE)) as (http, settings, sim):
        good = await _grant(http, settings, READ)
        assert good.status_code == 200 and good.json()["token_type"] == "Bearer" and good.json()["expires_in"] == 300
        assert (await _grant(http, settings, READ, secret="nope")).json()["error"] == "invalid_client"
        refused = await _grant(http, settings, f"{WRITE} {ADMIN}")
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
        assert sim.issuer.requests_by_scope == {READ: 2, f"{WRITE} {ADMIN}": 1}  # type: ignore[attr-defined]


async def test_simulator_rest_enforces_scopes_expiry_and_the_scim_token_trap() -> None:
    async with bare_simulator() as (http, settings, sim):
        read = {"Authorization": "Bearer " + (await _grant(http, settings, READ)).json()["access_token"]}
        write = {"Authorization": "Bearer " + (await _grant(http, settings, WRITE)).json()["access_token"]}
        user = next(iter(sim.rest.users.values()))  # type: ignore[attr-defined]
        assert (await http.get("/api/v1/users", headers=read)).status_code == 200
        assert (await http.patch(f"/api/v1/users/{user['id']}", json={"title": "x"}, headers=read)).status_code == 403
        assert (await http.patch(f"/api/v1/users/{user['id']}", json={"title": "x"}, headers=write)).status_code == 200
        roles = await http.patch(f"/api/v1/users/{user['id']}", json={"roles": ["Auditor"]}, headers=write)
        assert roles.status_code == 403 and ADMIN in roles.json()["message"]
        scim = await http.get("/api/v1/users", headers={"Authorization": f"Bearer {settings.scim_token}"})
        assert scim.status_code == 401 and "SCIM token" in scim.json()["message"]
        assert (await http.get(f"/api/v1/users/{user['userName']}", headers=read)).status_code == 404  # id, not name
        sim.issuer.clock.advance(300)  # type: ignore[attr-defined]
        assert (await http.get("/api/v1/users", headers=read)).status_code == 401


async def test_simulator_paging_caps_take_at_100_and_defaults_to_25() -> None:
    async with bare_simulator(rest_users=130) as (http, settings, _sim):
        headers = {"Authorization": "Bearer " + (await _grant(http, settings, READ)).json()["access_token"]}
        default = (await http.get("/api/v1/users", headers=headers)).json()
        assert (len(default["data"]), default["take"], default["total"]) == (25, 25, 130)
        capped = (await http.get("/api/v1/users", params={"take": "500", "skip": "10"}, headers=headers)).json()
        assert (len(capped["data"]), capped["take"], capped["skip"]) == (100, 100, 10)
        bad = await http.get("/api/v1/users", params={"filter": "active eq true"}, headers=headers)
        assert bad.status_code == 400


async def test_simulator_answers_429_without_retry_after_above_the_client_rate() -> None:
    async with bare_simulator(rate=1.0, burst=3) as (http, settings, _sim):
        headers = {"Authorization": "Bearer " + (await _grant(http, settings, READ)).json()["access_token"]}
        answers = [await http.get("/api/v1/users", headers=headers) for _ in range(6)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
        assert all("retry-after" not in a.headers for a in answers)


async def test_the_gateway_answers_a_throttled_delinea_with_429_and_its_own_retry_after() -> None:
    async with delinea_stack(rate=0.001, burst=1) as stack:  # the start-up check spent the only request
        answer = await stack.http.get(f"{stack.scim}/Users?count=1")
        assert answer.status_code == 429 and answer.headers.get("Retry-After")
        assert "throttling" in answer.json()["detail"]
        assert {entry["status"] for entry in stack.rest_calls()} == {429}


# --- bounded concurrent paging --------------------------------------------------------------------


class InFlight:
    """ASGI wrapper counting list requests in flight at once (each held briefly so overlaps show)."""

    def __init__(self, app: Any) -> None:
        self.app, self.now, self.most = app, 0, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        listing = scope["type"] == "http" and scope["path"] == "/api/v1/users" and scope["method"] == "GET"
        if not listing:
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.02)
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


async def test_large_counts_fetch_pages_concurrently_but_bounded() -> None:
    async with delinea_stack(rest_users=1050) as stack:
        wrapped = InFlight(stack.sim)  # the same simulator, served again behind the counting wrapper
        async with serving(wrapped) as proxy:
            upstream = stack.gateway_app.state.runtime.tenants["acme"].apps["delinea"].connector.upstream
            upstream.base_url = proxy.url + "/api/v1"
            answer = (await stack.http.get(f"{stack.scim}/Users", params={"count": "1000"})).json()
        assert len(answer["Resources"]) == 1000
        assert 1 < wrapped.most <= 4
