"""A create whose answer is lost never makes a duplicate user and never loops on 409 (gateway/create.py).

The simulator's `after` faults let the vendor create the user, then delay
the answer past the gateway's read timeout, drop the connection, or replace
the answer with a proxy's 502: the ambiguous failures of real networks.
"""

from __future__ import annotations

import pytest

from tests.resilience.harness import app_config, gateway, gateway_config, new_user, scim_client, simulator

USERS = "/api/scim/v2/Users"
FAST_RETRY = {"attempts": 3, "base_delay": 0.01, "max_delay": 0.05, "deadline": 10}


@pytest.mark.parametrize(
    "fault",
    [
        {"latency": 1.0, "after": True},  # the answer comes after the gateway's 0.3 s read timeout
        {"reset": True, "after": True},  # the connection drops after the vendor acted
        {"status": 502, "after": True},  # a proxy in front of the vendor gave up
    ],
    ids=["timed-out", "reset", "proxy-502"],
)
async def test_create_after_an_ambiguous_failure_finds_the_user_instead_of_duplicating(fault: dict) -> None:
    async with simulator() as sim:
        app = app_config(sim, retry=FAST_RETRY, http={"read_timeout": 0.3})
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await sim.settle()
            sim.fault(method="POST", path=USERS, **fault)
            answer = await client.post("/Users", json=new_user("once@example.com", "ext-once"))
            assert answer.status_code == 201, answer.text
            body = answer.json()
            assert body["userName"] == "once@example.com" and body["externalId"] == "ext-once"
            matching = [u for u in sim.users() if u.get("userName") == "once@example.com"]
            assert len(matching) == 1 and matching[0]["id"] == body["id"]
            assert len(sim.requests("POST", "/Users")) == 1  # looked up, never resent
            assert any("filter" in entry["query"] for entry in sim.requests("GET", "/Users"))


@pytest.mark.parametrize("status", [500, 503])
async def test_create_answered_with_any_5xx_after_the_vendor_stored_it_is_a_201_with_the_user(status: int) -> None:
    async with simulator() as sim:
        app = app_config(sim, retry=FAST_RETRY)
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await sim.settle()
            sim.fault(method="POST", path=USERS, status=status, after=True)  # stored, then the answer fails
            answer = await client.post("/Users", json=new_user("stored@example.com", "ext-stored"))
            # 201 with the user: the IdP has nothing to retry, so it can never meet a 409 for its own user.
            assert answer.status_code == 201, answer.text
            body = answer.json()
            assert body["userName"] == "stored@example.com" and body["externalId"] == "ext-stored"
            matching = [u for u in sim.users() if u.get("userName") == "stored@example.com"]
            assert len(matching) == 1 and matching[0]["id"] == body["id"]
            assert len(sim.requests("POST", "/Users")) == 1  # looked up, never resent
            assert any("filter" in entry["query"] for entry in sim.requests("GET", "/Users"))


async def test_create_answered_500_before_the_vendor_stored_it_is_looked_up_then_relayed_not_resent() -> None:
    async with simulator() as sim:
        app = app_config(sim, retry=FAST_RETRY)
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await sim.settle()
            sim.fault(method="POST", path=USERS, status=500)  # the vendor failed without storing anything
            answer = await client.post("/Users", json=new_user("failed@example.com", "ext-failed"))
            assert answer.status_code == 502, answer.text  # a 500 is not one a resend cures: as before
            assert not [u for u in sim.users() if u.get("userName") == "failed@example.com"]
            assert len(sim.requests("POST", "/Users")) == 1
            assert any("filter" in entry["query"] for entry in sim.requests("GET", "/Users"))


async def test_create_answered_503_is_looked_up_before_it_is_resent() -> None:
    async with simulator() as sim:
        app = app_config(sim, retry=FAST_RETRY)
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await sim.settle()
            sim.fault(method="POST", path=USERS, status=503)  # not stored; a 503 cannot say so
            answer = await client.post("/Users", json=new_user("resent@example.com", "ext-resent"))
            assert answer.status_code == 201, answer.text
            assert len([u for u in sim.users() if u.get("userName") == "resent@example.com"]) == 1
            calls = [(e["method"], "filter" in e["query"]) for e in sim.requests(contains="/Users")]
            assert calls == [("POST", False), ("GET", True), ("POST", False)]


async def test_create_lost_before_the_vendor_acted_is_resent_once() -> None:
    async with simulator() as sim:
        app = app_config(sim, retry=FAST_RETRY)
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await sim.settle()
            sim.fault(method="POST", path=USERS, reset=True)  # dropped before the vendor saw it
            answer = await client.post("/Users", json=new_user("later@example.com", "ext-later"))
            assert answer.status_code == 201, answer.text
            assert len([u for u in sim.users() if u.get("userName") == "later@example.com"]) == 1
            assert len(sim.requests("POST", "/Users")) == 2  # looked up (nothing there), then resent


async def test_someone_else_holding_the_user_name_is_a_409_not_adopted() -> None:
    async with simulator() as sim:
        app = app_config(sim, retry=FAST_RETRY)
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            first = await client.post("/Users", json=new_user("taken@example.com", "ext-owner"))
            assert first.status_code == 201
            sim.fault(method="POST", path=USERS, status=502, after=True)  # the clash answer is lost
            answer = await client.post("/Users", json=new_user("taken@example.com", "ext-intruder"))
            assert answer.status_code == 409
            assert answer.json()["scimType"] == "uniqueness"
            assert len([u for u in sim.users() if u.get("userName") == "taken@example.com"]) == 1
