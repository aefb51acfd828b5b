"""Orca REST (`orca`) end to end: IdP -> gateway -> Orca simulator's /api, real HTTP on loopback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.inbound.serving import serving
from tests.vendors.orca_env import ORCA_EXT, PATCH_OP, USER, FakeClock, orca_env
from vendors.simulators import SIMULATORS


def new_user(local: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": f"{local}@acme.example", "displayName": local.title(), **extra}


def members_patch(op: str, *user_ids: str) -> dict[str, Any]:
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": op, "path": "members", "value": [{"value": u} for u in user_ids]}],
    }


async def test_create_invites_the_user_in_orca_with_token_auth_and_says_so() -> None:
    async with orca_env() as env:
        env.sim.requests.clear()
        response = await env.scim.post("/Users", json=new_user("nadia.new", name={"givenName": "Nadia"}))
        assert response.status_code == 201, response.text
        created = response.json()
        # Truthful: Orca only invited the user; SCIM-active, with Orca's own status visible.
        assert created["active"] is True
        assert created[ORCA_EXT] == {"status": "invited"}
        assert created["userName"] == "nadia.new@acme.example"
        assert created["emails"] == [{"value": "nadia.new@acme.example", "type": "work", "primary": True}]
        assert created["roles"][0]["value"] == "Viewer"
        stored = await env.rest_user("nadia.new@acme.example")
        assert stored == {
            "id": created["id"],
            "email": "nadia.new@acme.example",
            "name": "Nadia.New",
            "role": "Viewer",
            "status": "invited",
        }
        api_calls = env.requests()
        assert api_calls and {entry["auth_scheme"] for entry in api_calls} == {"Token"}
        assert ("POST", "/api/rbac/users") in {(entry["method"], entry["path"]) for entry in api_calls}
        # The SCIM surface of the same simulator was not used: REST and SCIM are separate systems.
        assert not env.requests("/scim/")


async def test_create_with_a_role_and_inactive_and_the_refusals() -> None:
    async with orca_env() as env:
        body = new_user("ada.admin", roles=[{"value": "Admin", "primary": True}], active=False)
        created = (await env.scim.post("/Users", json=body)).json()
        assert created["active"] is False and created[ORCA_EXT]["status"] == "inactive"
        assert (await env.rest_user("ada.admin@acme.example"))["role"] == "Admin"

        clash = await env.scim.post("/Users", json=new_user("ADA.ADMIN"))
        assert clash.status_code == 409 and clash.json()["scimType"] == "uniqueness"
        unknown = await env.scim.post("/Users", json=new_user("x", roles=[{"value": "Overlord"}]))
        assert unknown.status_code == 400 and "Overlord" in unknown.json()["detail"]


async def test_okta_put_of_a_role_group_assigns_and_unassigns_the_role() -> None:
    async with orca_env() as env:
        first = (await env.scim.post("/Users", json=new_user("first"))).json()["id"]
        second = (await env.scim.post("/Users", json=new_user("second"))).json()["id"]
        admins = (await env.scim.get("/Groups/Admin")).json()
        keep = [member["value"] for member in admins["members"]]

        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Admin"}
        pushed = await env.scim.put(
            "/Groups/Admin", json={**body, "members": [{"value": u} for u in [*keep, first, second]]}
        )
        assert pushed.status_code == 200, pushed.text
        assert {first, second} <= {member["value"] for member in pushed.json()["members"]}
        assert (await env.rest_user("first@acme.example"))["role"] == "Admin"
        assert (await env.rest_user("second@acme.example"))["role"] == "Admin"

        pushed = await env.scim.put("/Groups/Admin", json={**body, "members": [{"value": u} for u in [*keep, second]]})
        assert first not in {member["value"] for member in pushed.json()["members"]}
        assert (await env.rest_user("first@acme.example"))["role"] == "Viewer"
        assert (await env.rest_user("second@acme.example"))["role"] == "Admin"
        user = (await env.scim.get(f"/Users/{second}")).json()
        assert user["roles"][0]["value"] == "Admin" and user["groups"][0]["value"] == "Admin"


async def test_entra_patch_adds_and_removes_role_members() -> None:
    async with orca_env() as env:
        user_id = (await env.scim.post("/Users", json=new_user("erin"))).json()["id"]
        added = await env.scim.patch("/Groups/Admin", json=members_patch("Add", user_id))
        assert added.status_code in (200, 204), added.text
        assert (await env.rest_user("erin@acme.example"))["role"] == "Admin"

        entra_remove = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Remove", "path": f'members[value eq "{user_id}"]'}],
        }
        removed = await env.scim.patch("/Groups/Admin", json=entra_remove)
        assert removed.status_code in (200, 204), removed.text
        assert (await env.rest_user("erin@acme.example"))["role"] == "Viewer"
        group = (await env.scim.get("/Groups", params={"filter": 'displayName eq "Viewer"'})).json()
        assert group["totalResults"] == 1 and user_id in {m["value"] for m in group["Resources"][0]["members"]}


async def test_role_groups_are_fixed() -> None:
    async with orca_env() as env:
        assert (await env.scim.get("/Groups/Overlord")).status_code == 404
        made = await env.scim.post(
            "/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "X"}
        )
        assert made.status_code == 501 and "platform-defined" in made.json()["detail"]
        assert (await env.scim.delete("/Groups/Admin")).status_code == 501


async def test_every_page_is_walked_past_the_silent_cap() -> None:
    async with orca_env(rest_users=1030, rest_page_cap=50) as env:
        # The trap itself: Orca answers 50 when asked 100, with nothing saying more exist.
        token = {"Authorization": f"Token {env.settings.rest_token}"}
        asked = (await env.http.get("/api/rbac/users", params={"offset": 0, "limit": 100}, headers=token)).json()
        assert set(asked) == {"data"} and len(asked["data"]) == 50

        env.sim.requests.clear()
        first = (await env.scim.get("/Users", params={"count": 1000})).json()
        assert first["totalResults"] == 1030 and len(first["Resources"]) == 1000 and first["startIndex"] == 1
        rest = (await env.scim.get("/Users", params={"startIndex": 1001, "count": 100})).json()
        assert rest["totalResults"] == 1030 and rest["startIndex"] == 1001 and len(rest["Resources"]) == 30
        seen = [user["id"] for user in first["Resources"] + rest["Resources"]]
        assert len(set(seen)) == 1030
        assert set(seen) == {user["id"] for user in await env.rest_users()}
        middle = (await env.scim.get("/Users", params={"startIndex": 501, "count": 3})).json()
        assert [user["id"] for user in middle["Resources"]] == seen[500:503]
        # One walk (21 full pages and the empty one that ends it) served all three listings.
        pages = [entry for entry in env.requests() if entry["path"] == "/api/rbac/users"]
        assert len(pages) == 22


async def test_filters_are_evaluated_in_the_gateway() -> None:
    async with orca_env(rest_users=120) as env:
        users = await env.rest_users()
        target = users[7]
        by_name = (await env.scim.get("/Users", params={"filter": f'userName eq "{target["email"].upper()}"'})).json()
        assert by_name["totalResults"] == 1 and by_name["Resources"][0]["id"] == target["id"]

        inactive = (await env.scim.get("/Users", params={"filter": "active eq false"})).json()
        assert inactive["totalResults"] == 0
        await env.scim.patch(
            f"/Users/{target['id']}",
            json={"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
        )
        inactive = (await env.scim.get("/Users", params={"filter": "active eq false"})).json()
        assert [user["id"] for user in inactive["Resources"]] == [target["id"]] and inactive["totalResults"] == 1

        wanted = sorted(user["id"] for user in users if "user010" in user["email"])
        assert len(wanted) == 10
        work = 'emails[type eq "work"].value co "user010"'
        page = (await env.scim.get("/Users", params={"filter": work, "startIndex": 4, "count": 3})).json()
        assert page["totalResults"] == 10 and page["startIndex"] == 4 and len(page["Resources"]) == 3
        everything = (await env.scim.get("/Users", params={"filter": work})).json()
        assert sorted(user["id"] for user in everything["Resources"]) == wanted
        assert [user["id"] for user in page["Resources"]] == [user["id"] for user in everything["Resources"]][3:6]


async def test_writes_are_confirmed_despite_lagging_reads() -> None:
    async with orca_env(rest_lag_reads=3) as env:
        created = (await env.scim.post("/Users", json=new_user("lagging"))).json()
        assert (await env.scim.get(f"/Users/{created['id']}")).status_code == 200
        listed = (await env.scim.get("/Users", params={"filter": 'userName eq "lagging@acme.example"'})).json()
        assert listed["totalResults"] == 1

        renamed = await env.scim.put(f"/Users/{created['id']}", json=new_user("lagging", displayName="Renamed"))
        assert renamed.json()["displayName"] == "Renamed"
        assert (await env.scim.get(f"/Users/{created['id']}")).json()["displayName"] == "Renamed"
        # The connector read back until Orca showed each write (a 404 right after the invite is "not yet").
        statuses = [entry["status"] for entry in env.requests() if entry["path"] == f"/api/rbac/users/{created['id']}"]
        assert 404 in statuses


async def test_an_unconfirmed_write_is_still_shown_to_the_idp() -> None:
    clock = FakeClock()
    async with orca_env(options={"confirm_attempts": 2}, rest_lag_reads=0, rest_lag_seconds=5.0, clock=clock) as env:
        created = await env.scim.post("/Users", json=new_user("slow"))
        assert created.status_code == 201 and created.json()[ORCA_EXT]["status"] == "invited"
        listed = (await env.scim.get("/Users", params={"filter": 'userName eq "slow@acme.example"'})).json()
        assert listed["totalResults"] == 1  # read-your-writes although Orca's own list lags
        clock.now += 10
        assert (await env.scim.get(f"/Users/{created.json()['id']}")).status_code == 200


@pytest.mark.parametrize("mode", ["delete", "deactivate"])
async def test_delete_mode(mode: str) -> None:
    async with orca_env(options={"delete_mode": mode}) as env:
        user_id = (await env.scim.post("/Users", json=new_user("leaver"))).json()["id"]
        assert (await env.scim.delete(f"/Users/{user_id}")).status_code == 204
        after = await env.scim.get(f"/Users/{user_id}")
        stored = [user for user in await env.rest_users() if user["id"] == user_id]
        if mode == "delete":
            assert stored == [] and after.status_code == 404
        else:
            assert stored[0]["status"] == "inactive" and after.json()["active"] is False
        deletes = [entry for entry in env.requests() if entry["method"] == "DELETE"]
        assert len(deletes) == (1 if mode == "delete" else 0)


async def test_reactivating_an_invitee_keeps_it_invited() -> None:
    async with orca_env() as env:
        user_id = (await env.scim.post("/Users", json=new_user("invitee"))).json()["id"]
        off = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
        assert (await env.scim.patch(f"/Users/{user_id}", json=off)).json()["active"] is False
        on = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": True}]}
        back = (await env.scim.patch(f"/Users/{user_id}", json=on)).json()
        assert back["active"] is True and back[ORCA_EXT]["status"] == "invited"
        env.sim.rest_store.accept("invitee@acme.example")  # type: ignore[attr-defined]
        settled = [(await env.scim.get(f"/Users/{user_id}")).json() for _ in range(2)][-1]
        assert settled[ORCA_EXT]["status"] == "active"


async def test_the_simulator_refuses_mixed_up_tokens() -> None:
    spec = SIMULATORS["orca"]
    settings = spec.demo_settings("acme")
    async with serving(spec.create_app(settings)) as running, httpx.AsyncClient(base_url=running.url) as http:
        scim_on_rest = await http.get("/api/rbac/users", headers={"Authorization": f"Token {settings.scim_token}"})
        assert scim_on_rest.status_code == 401 and "SCIM token" in scim_on_rest.json()["detail"]
        bearer = await http.get("/api/rbac/users", headers={"Authorization": f"Bearer {settings.rest_token}"})
        assert bearer.status_code == 401 and "not Bearer" in bearer.json()["detail"]
        rest_on_scim = await http.get("/scim/v2/Users", headers={"Authorization": f"Bearer {settings.rest_token}"})
        assert rest_on_scim.status_code == 401 and "REST API token" in rest_on_scim.json()["detail"]
        good = await http.get("/api/rbac/users", headers={"Authorization": f"Token {settings.rest_token}"})
        assert good.status_code == 200 and len(good.json()["data"]) == settings.users
        state = (await http.get("/_sim/state")).json()
        assert set(state) == {"scim", "rest"} and len(state["rest"]["users"]) == settings.users


async def test_a_user_without_an_email_is_refused_before_orca_is_asked() -> None:
    async with orca_env() as env:
        env.sim.requests.clear()
        refused = await env.scim.post("/Users", json={"schemas": [USER], "userName": "not-an-email"})
        assert refused.status_code == 400 and refused.json()["scimType"] == "invalidValue"
        assert "email" in refused.json()["detail"]
        assert not [entry for entry in env.requests() if entry["method"] != "GET"]
        emails = [{"value": "by.email@acme.example", "type": "work", "primary": True}]
        created = await env.scim.post("/Users", json={"schemas": [USER], "userName": "by-email", "emails": emails})
        assert created.status_code == 201 and created.json()["userName"] == "by.email@acme.example"


async def test_group_push_refusals() -> None:
    async with orca_env() as env:
        env.sim.requests.clear()
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Admins"}
        renamed = await env.scim.put("/Groups/Admin", json=body)
        assert renamed.status_code == 400 and renamed.json()["scimType"] == "mutability"
        assert not env.requests()  # refused before any vendor call
        ghost = await env.scim.patch("/Groups/Admin", json=members_patch("add", "usr_nobody"))
        assert ghost.status_code == 400 and "usr_nobody" in ghost.json()["detail"]
        assert (await env.scim.put("/Groups/Owner", json={**body, "displayName": "Owner"})).status_code == 404


async def test_a_vendor_that_ignores_the_offset_is_an_error_not_a_loop() -> None:
    async with orca_env() as env:
        same = (await env.rest_users())[:2]
        rule = {"status": 200, "method": "GET", "path": "/api/rbac/users", "body": {"data": same}, "times": -1}
        assert (await env.http.post("/_sim/faults", json=rule)).status_code == 200
        env.sim.requests.clear()
        answer = await env.scim.get("/Users")
        assert answer.status_code == 502 and "repeats itself" in answer.json()["detail"]
        assert len([entry for entry in env.requests() if entry["path"] == "/api/rbac/users"]) == 2


async def test_the_simulator_follows_orcas_guide() -> None:
    spec = SIMULATORS["orca"]
    settings = spec.demo_settings("acme")
    async with serving(spec.create_app(settings)) as running, httpx.AsyncClient(base_url=running.url) as http:
        token = {"Authorization": f"Token {settings.rest_token}"}
        invited = await http.post("/api/rbac/users", headers=token, json={"email": "i@acme.example", "role": "Viewer"})
        assert invited.status_code == 201 and invited.json() == {**invited.json(), "status": "invited"}
        assert "role" not in invited.json()  # the answer is partial, as in the guide's example
        clash = await http.post("/api/rbac/users", headers=token, json={"email": "I@acme.example", "role": "Viewer"})
        assert clash.status_code == 409
        unknown = await http.post("/api/rbac/users", headers=token, json={"email": "j@acme.example", "role": "Owner"})
        assert unknown.status_code == 400 and "Owner" in unknown.json()["detail"]
        user_id = invited.json()["id"]
        assert (await http.get(f"/api/rbac/users/{user_id}", headers=token)).status_code == 404  # not visible yet
        assert (await http.get(f"/api/rbac/users/{user_id}", headers=token)).json()["status"] == "invited"
        fixed = await http.patch(f"/api/rbac/users/{user_id}", headers=token, json={"id": "usr_mine"})
        assert fixed.status_code == 400
        ignored = await http.get("/api/rbac/users", headers=token, params={"email": "i@acme.example"})
        assert len(ignored.json()["data"]) == settings.users + 1  # no server-side filter: the parameter is ignored
        assert (await http.delete(f"/api/rbac/users/{user_id}", headers=token)).status_code == 204
        assert (await http.delete(f"/api/rbac/users/{user_id}", headers=token)).status_code == 404
