"""Every simulator's console (`/_sim/users`): an admin creating, changing and removing accounts at the vendor,
in the vendor's own representation, seen by the vendor's own API afterwards. Real HTTP over loopback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.inbound.serving import serving
from vendors.simulators import SIMULATORS

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_USER = {"schemas": [USER_SCHEMA], "userName": "mallory@acme.example", "displayName": "Mallory",
             "emails": [{"value": "mallory@acme.example", "primary": True}], "active": True}  # fmt: skip


@dataclass(frozen=True)
class Case:
    simulator: str
    surface: str | None  # None: the default store
    created: dict[str, Any]
    change: dict[str, Any]
    #: The users the vendor holds in that store, from /_sim/state.
    users: Callable[[Any], list[dict[str, Any]]]
    #: The changed value, read back from one user.
    changed: Callable[[dict[str, Any]], Any]


def scim_users(state: Any) -> list[dict[str, Any]]:
    return state["Users"]


CASES = [
    Case("invicti", None, SCIM_USER, {"displayName": "Mallory M."}, scim_users, lambda u: u["displayName"]),
    Case("spekit", "scim", SCIM_USER, {"active": False}, scim_users, lambda u: u["active"]),
    Case(
        "orca",
        None,
        {"email": "mallory@acme.example", "name": "Mallory", "role": "Admin", "status": "active"},
        {"role": "Viewer"},
        lambda s: s["rest"]["visible"],
        lambda u: u["role"],
    ),
    Case("orca", "scim", SCIM_USER, {"displayName": "M"}, lambda s: s["scim"]["Users"], lambda u: u["displayName"]),
    Case(
        "delinea",
        None,
        {"userName": "mallory@acme.example", "emails": [{"value": "mallory@acme.example"}], "roles": ["Administrator"]},
        {"active": False},
        lambda s: s["rest"]["users"],
        lambda u: u["active"],
    ),
    Case("delinea", "scim", SCIM_USER, {"title": "Boss"}, lambda s: s["scim"]["Users"], lambda u: u["title"]),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.simulator}-{c.surface or 'default'}")
async def test_the_console_creates_changes_and_removes_accounts(case: Case) -> None:
    spec = SIMULATORS[case.simulator]
    simulator = spec.create_app(spec.demo_settings("acme"))
    query = {"surface": case.surface} if case.surface else {}
    async with serving(simulator) as server, httpx.AsyncClient(base_url=server.url + "/_sim") as sim:
        before = len(case.users((await sim.get("/state")).json()))
        created = await sim.post("/users", json=case.created, params=query)
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        users = {user["id"]: user for user in case.users((await sim.get("/state")).json())}
        assert len(users) == before + 1 and user_id in users
        again = await sim.post("/users", json=case.created, params=query)
        assert again.status_code == 409, again.text  # the vendor's own uniqueness rule holds in its console
        changed = await sim.patch(f"/users/{user_id}", json=case.change, params=query)
        assert changed.status_code == 200, changed.text
        users = {user["id"]: user for user in case.users((await sim.get("/state")).json())}
        assert case.changed(users[user_id]) == next(iter(case.change.values()))
        assert (await sim.delete(f"/users/{user_id}", params=query)).status_code == 204
        assert user_id not in {user["id"] for user in case.users((await sim.get("/state")).json())}
        assert (await sim.delete(f"/users/{user_id}", params=query)).status_code == 404
        assert simulator.requests == type(simulator.requests)()  # the vendor's API saw none of it


async def test_an_account_made_in_the_console_is_what_the_vendors_api_then_serves() -> None:
    spec = SIMULATORS["delinea"]
    settings = spec.demo_settings("acme")
    simulator = spec.create_app(settings)
    async with serving(simulator) as server, httpx.AsyncClient(base_url=server.url) as client:
        made = (await client.post("/_sim/users", json=CASES[4].created)).json()
        token = await client.post(
            "/identity/connect/token",
            data={"grant_type": "client_credentials", "client_id": settings.client_id,
                  "client_secret": settings.client_secret, "scope": "delinea:api:read"},
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        served = (await client.get(f"/api/v1/users/{made['id']}", headers=headers)).json()
        assert served["userName"] == "mallory@acme.example" and served["roles"] == ["Administrator"]


async def test_bad_bodies_unknown_stores_and_vendors_without_users_are_refused() -> None:
    for name, path, body, params, status in (
        ("invicti", "/_sim/users", {"displayName": "no userName"}, {}, 400),
        ("orca", "/_sim/users", {"email": "x@acme.example", "role": "Owner"}, {}, 400),
        ("orca", "/_sim/users", {"email": "x@acme.example"}, {"surface": "ldap"}, 404),
        ("darktrace", "/_sim/users", {"userName": "x"}, {}, 404),
    ):
        spec = SIMULATORS[name]
        async with serving(spec.create_app(spec.demo_settings("acme"))) as server, httpx.AsyncClient() as client:
            answer = await client.post(server.url + path, json=body, params=params)
            assert answer.status_code == status, (name, answer.text)
            assert answer.json()["detail"]
