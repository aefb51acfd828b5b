"""What one request may ask the gateway to do, over real HTTP: multi-valued attributes, PATCH operations,
list paging numbers, the resource type a body names, and a client that leaves mid-body.

Every refusal is a SCIM 400 that never reaches the vendor (the simulator's request log stays empty).
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.scim.limits import MAX_BODY_VALUES, MAX_MEMBERS, MAX_OPERATIONS, MAX_VALUES
from tests.resilience.harness import (
    TOKENS,
    USER_SCHEMA,
    app_config,
    gateway,
    gateway_config,
    new_user,
    one_app,
    scim_client,
    simulator,
)

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _user(**attributes: Any) -> dict[str, Any]:
    return {**new_user("limits@example.com"), **attributes}


def _emails(count: int) -> list[dict[str, str]]:
    return [{"value": f"u{i}@example.com", "type": "work"} for i in range(count)]


def _members(count: int) -> list[dict[str, str]]:
    return [{"value": f"00000000-0000-0000-0000-{i:012d}"} for i in range(count)]


def _patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


TOO_MANY: list[tuple[str, str, str, dict[str, Any]]] = [
    ("30000 emails (the 1 s user)", "POST", "/Users", _user(emails=[{"value": f"{i}@e.io"} for i in range(30_000)])),
    ("emails one over", "POST", "/Users", _user(emails=_emails(MAX_VALUES + 1))),
    ("phoneNumbers on PUT", "PUT", "/Users/u1",
     _user(phoneNumbers=[{"value": str(i)} for i in range(MAX_VALUES + 1)])),
    ("x509Certificates", "POST", "/Users", _user(x509Certificates=[{"value": "TUlJ"}] * (MAX_VALUES + 1))),
    ("a list inside the enterprise extension", "POST", "/Users",
     _user(schemas=[USER_SCHEMA, ENTERPRISE], **{ENTERPRISE: {"department": ["d"] * (MAX_VALUES + 1)}})),
    ("group members one over", "POST", "/Groups",
     {"schemas": [GROUP_SCHEMA], "displayName": "big", "members": _members(MAX_MEMBERS + 1)}),
    ("PATCH operations one over", "PATCH", "/Users/u1",
     _patch(*[{"op": "replace", "path": "displayName", "value": f"n{i}"} for i in range(MAX_OPERATIONS + 1)])),
    ("Okta path-less value keys count as operations", "PATCH", "/Users/u1",
     _patch({"op": "replace", "value": {f"urn:x:{i}": "v" for i in range(MAX_OPERATIONS + 1)}})),
    ("member removals count with the members", "PATCH", "/Groups/g1",
     _patch({"op": "Remove", "path": "members", "value": _members(MAX_MEMBERS + 1)})),
    ("PATCH member additions", "PATCH", "/Groups/g1",
     _patch({"op": "Add", "path": "members", "value": _members(MAX_MEMBERS + 1)})),
    ("path-less members value", "PATCH", "/Groups/g1",
     _patch({"op": "replace", "value": {"displayName": "g", "members": _members(MAX_MEMBERS + 1)}})),
    ("PATCH emails value", "PATCH", "/Users/u1", _patch({"op": "add", "path": "emails", "value": _emails(101)})),
    (".search attributes", "POST", "/Users/.search",
     {"schemas": [SEARCH], "attributes": [f"name.givenName{i}" for i in range(MAX_VALUES + 1)]}),
    (".search with unknown keys", "POST", "/Users/.search",
     {"schemas": [SEARCH], **{f"k{i}": 0 for i in range(MAX_BODY_VALUES)}}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body"), [case[1:] for case in TOO_MANY], ids=[c[0] for c in TOO_MANY])
async def test_too_many_values_or_operations_is_400_too_many_before_any_vendor_call(
    method: str, path: str, body: dict[str, Any]
) -> None:
    async with one_app() as (sim, server), scim_client(server, "acme", "invicti") as client:
        answer = await client.request(method, path, content=orjson.dumps(body), headers=_SCIM_JSON)
        assert answer.status_code == 400, answer.text
        error = answer.json()
        assert error["scimType"] == "tooMany" and error["status"] == "400"
        assert "more than" in error["detail"]
        assert sim.requests() == []


@pytest.mark.parametrize("path", ["/Users", "/Users/u1"])
@pytest.mark.parametrize("parameter", ["attributes", "excludedAttributes"])
async def test_attribute_lists_in_the_query_are_capped_before_any_vendor_call(path: str, parameter: str) -> None:
    async with one_app() as (sim, server), scim_client(server, "acme", "invicti") as client:
        names = ",".join(["userName"] * (MAX_VALUES + 1))
        answer = await client.get(path, params={parameter: names})
        assert answer.status_code == 400 and answer.json()["scimType"] == "tooMany", answer.text
        assert sim.requests() == []


async def test_requests_at_the_limits_are_served() -> None:
    async with one_app() as (sim, server), scim_client(server, "acme", "invicti") as client:
        user = await client.post("/Users", json=_user(emails=_emails(MAX_VALUES)))
        assert user.status_code == 201, user.text
        assert len(user.json()["emails"]) == MAX_VALUES
        members = _members(MAX_MEMBERS)
        group = await client.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "g", "members": members})
        assert group.status_code == 201, group.text
        assert [member["value"] for member in group.json()["members"]] == [member["value"] for member in members]
        (stored,) = [entry for entry in sim.app.state()["Groups"] if entry["id"] == group.json()["id"]]
        assert len(stored["members"]) == MAX_MEMBERS
        okta = _patch({"op": "replace", "value": {"id": group.json()["id"], "displayName": "h", "members": members}})
        replaced = await client.patch(f"/Groups/{group.json()['id']}", json=okta)
        assert replaced.status_code in (200, 204), replaced.text
        ops = [{"op": "replace", "path": "displayName", "value": f"n{i}"} for i in range(MAX_OPERATIONS)]
        patched = await client.patch(f"/Users/{user.json()['id']}", json=_patch(*ops))
        assert patched.status_code == 200, patched.text
        # Entra removes many members in one operation: they count with the members, not as operations.
        # (A small group: the simulator applies removals one by one, members x removals filter evaluations.)
        few = _members(MAX_OPERATIONS + 10)
        team = await client.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "t", "members": few})
        removal = _patch({"op": "Remove", "path": "members", "value": few[:-1]})
        removed = await client.patch(f"/Groups/{team.json()['id']}", json=removal)
        assert removed.status_code in (200, 204), removed.text
        (stored,) = [entry for entry in sim.app.state()["Groups"] if entry["id"] == team.json()["id"]]
        assert [member["value"] for member in stored["members"]] == [few[-1]["value"]]


_SCIM_JSON = {"Content-Type": "application/scim+json"}
_HUGE = "99999999999999999999999"  # beyond 64 bits


async def test_start_index_or_count_beyond_64_bits_is_400_invalid_value() -> None:
    async with one_app() as (sim, server), scim_client(server, "acme", "invicti") as client:
        for name in ("startIndex", "count"):
            answer = await client.get("/Users", params={name: _HUGE})
            assert answer.status_code == 400, answer.text
            assert answer.json()["scimType"] == "invalidValue" and name in answer.json()["detail"]
            for value in (int(_HUGE), _HUGE):
                searched = await client.post("/Users/.search", json={"schemas": [SEARCH], name: value})
                assert searched.status_code == 400, searched.text
                assert searched.json()["scimType"] == "invalidValue"
            assert sim.requests() == []
            # Far below the range: refused, or read as 1 (0 for count) as RFC 7644 section 3.4.2.4 says; never a 500.
            low = await client.post("/Users/.search", json={"schemas": [SEARCH], name: -int(_HUGE)})
            assert low.status_code in (200, 400), low.text
            sim.app.requests.clear()
        assert (await client.get("/Users", params={"startIndex": str(2**63 - 1), "count": "1"})).status_code == 200


WRONG_TYPE: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("a Group body POSTed to /Users", "POST", "/Users", {"schemas": [GROUP_SCHEMA], "userName": "g"}, "Group"),
    ("a Group body PUT to /Users/id", "PUT", "/Users/u1", {"schemas": [GROUP_SCHEMA], "userName": "g"}, "Group"),
    ("User and Group schemas together", "POST", "/Users",
     {"schemas": [USER_SCHEMA, GROUP_SCHEMA], "userName": "g"}, "Group"),
    ("a User body POSTed to /Groups", "POST", "/Groups", {"schemas": [USER_SCHEMA], "displayName": "u"}, "User"),
    ("the enterprise User extension on a Group", "POST", "/Groups",
     {"schemas": [GROUP_SCHEMA, ENTERPRISE], "displayName": "u"}, "User"),
    ("schemas without the core schema", "POST", "/Users", {"schemas": [ENTERPRISE], "userName": "u"}, USER_SCHEMA),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "named"), [case[1:] for case in WRONG_TYPE], ids=[c[0] for c in WRONG_TYPE]
)
async def test_a_body_naming_another_resource_type_is_400_invalid_value(
    method: str, path: str, body: dict[str, Any], named: str
) -> None:
    async with one_app() as (sim, server), scim_client(server, "acme", "invicti") as client:
        answer = await client.request(method, path, json=body)
        assert answer.status_code == 400, answer.text
        error = answer.json()
        assert error["scimType"] == "invalidValue" and named in error["detail"], error
        assert sim.requests() == []


def _send_part_of_a_body_then_close(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /tenants/acme/apps/invicti/scim/v2/Users HTTP/1.1\r\nHost: gw\r\n"
            b"Authorization: Bearer " + TOKENS["acme"].encode() + b"\r\n"
            b"Content-Type: application/scim+json\r\nX-Request-ID: left-mid-body\r\n"
            b"Content-Length: 100000\r\n\r\n" + b'{"schemas"'
        )


async def test_a_client_that_disconnects_mid_body_is_audited_as_cancelled(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.jsonl"
    observability = {"audit": {"file": str(audit_file)}, "health_check_interval": 3600}
    async with simulator() as sim:
        config = gateway_config({"acme": {"apps": {"invicti": app_config(sim)}}}, observability=observability)
        async with gateway(config) as server:
            await sim.settle()
            await asyncio.to_thread(_send_part_of_a_body_then_close, server.port)
            records: list[dict[str, Any]] = []
            for _ in range(200):  # bounded wait for the server to notice the closed socket
                records = [r for r in _records(audit_file) if r.get("request_id") == "left-mid-body"]
                if records:
                    break
                await asyncio.sleep(0.01)
        assert sim.requests() == []
    assert len(records) == 1, records
    assert records[0]["status"] == 499 and records[0]["outcome"] == "cancelled"


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_text().splitlines() if line.strip()]
