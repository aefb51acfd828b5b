"""Bad input gets the right SCIM error (RFC 7644 section 3.12) and never reaches the vendor.

Each request goes through the demo gateway to acme/invicti; the simulator's
request log proves that no vendor call was made for any refused request.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.demo import DemoEnvironment
from tests.e2e.conftest import auth

pytestmark = pytest.mark.asyncio(loop_scope="module")
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_JSON = {"Content-Type": "application/scim+json"}


def _patch(*operations: dict[str, Any]) -> bytes:
    return httpx.Request("PATCH", "http://x", json={"schemas": [PATCH], "Operations": list(operations)}).content


CASES: list[tuple[str, str, str, dict[str, str], bytes | None, int, str | None]] = [
    ("malformed json", "POST", "/Users", SCIM_JSON, b'{"userName": ', 400, "invalidSyntax"),
    ("json array body", "POST", "/Users", SCIM_JSON, b"[1, 2]", 400, "invalidSyntax"),
    ("empty body", "POST", "/Users", SCIM_JSON, b"", 400, "invalidSyntax"),
    ("wrong content type", "POST", "/Users", {"Content-Type": "text/xml"}, b"<user/>", 415, None),
    (
        "missing userName",
        "POST",
        "/Users",
        SCIM_JSON,
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}',
        400,
        "invalidValue",
    ),
    ("invalid filter", "GET", "/Users?filter=userName%20eq", {}, None, 400, "invalidFilter"),
    ("filter on unknown attribute", "GET", "/Users?filter=shoeSize%20eq%20%2242%22", {}, None, 400, "invalidFilter"),
    (
        "unknown PATCH path",
        "PATCH",
        "/Users/some-id",
        SCIM_JSON,
        _patch({"op": "replace", "path": "shoeSize", "value": 42}),
        400,
        "invalidPath",
    ),
    (
        "PATCH of a read-only attribute",
        "PATCH",
        "/Users/some-id",
        SCIM_JSON,
        _patch({"op": "replace", "path": "id", "value": "other"}),
        400,
        "mutability",
    ),
    (
        "unknown PATCH op",
        "PATCH",
        "/Users/some-id",
        SCIM_JSON,
        _patch({"op": "jump", "path": "active"}),
        400,
        "invalidValue",
    ),
    ("PATCH without operations", "PATCH", "/Users/some-id", SCIM_JSON, _patch(), 400, "invalidSyntax"),
    (
        "a Group body POSTed to /Users",
        "POST",
        "/Users",
        SCIM_JSON,
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "g"}',
        400,
        "invalidValue",
    ),
    (
        "more emails than the cap",
        "POST",
        "/Users",
        SCIM_JSON,
        b'{"userName": "u", "emails": [' + b",".join([b'{"value": "u@example.com"}'] * 101) + b"]}",
        400,
        "tooMany",
    ),
    ("startIndex beyond 64 bits", "GET", "/Users?startIndex=99999999999999999999999", {}, None, 400, "invalidValue"),
    ("bulk is not offered", "POST", "/Bulk", SCIM_JSON, b"{}", 501, None),
    ("unknown endpoint", "GET", "/Widgets", {}, None, 404, None),
    ("wrong method", "DELETE", "/Users", {}, None, 405, None),
    ("path traversal id", "GET", "/Users/..", {}, None, 404, None),
]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "scim_type"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_bad_input_is_a_scim_error_before_any_vendor_call(
    demo: DemoEnvironment,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    scim_type: str | None,
) -> None:
    simulator = demo.simulator_url("invicti", "acme")
    await client.delete(f"{simulator}/_sim/requests")
    url = demo.scim_url("acme", "invicti") + path
    response = await client.request(method, url, headers={**auth("acme"), **headers}, content=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    error = response.json()
    assert error["schemas"] == [ERROR] and error["status"] == str(status) and error["detail"]
    # scimType only where RFC 7644 section 3.12 defines one (400s, 409 uniqueness); never on 404, 405, 413, 415, 501.
    assert error.get("scimType") == scim_type, error
    assert (await client.get(f"{simulator}/_sim/requests")).json() == []


async def test_oversized_count_is_served_as_max_results(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    base = demo.scim_url("acme", "invicti")
    config = (await client.get(base + "/ServiceProviderConfig", headers=auth("acme"))).json()
    max_results = config["filter"]["maxResults"]
    simulator = demo.simulator_url("invicti", "acme")
    await client.delete(f"{simulator}/_sim/requests")
    response = await client.get(base + f"/Users?count={max_results * 50}", headers=auth("acme"))
    assert response.status_code == 200
    sent = (await client.get(f"{simulator}/_sim/requests")).json()
    assert [entry["query"] for entry in sent] == [f"startIndex=1&count={max_results}"]


async def test_oversized_body_is_413_before_any_vendor_call(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    simulator = demo.simulator_url("invicti", "acme")
    await client.delete(f"{simulator}/_sim/requests")
    huge = b'{"userName": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await client.post(
        demo.scim_url("acme", "invicti") + "/Users", headers={**auth("acme"), **SCIM_JSON}, content=huge
    )
    assert response.status_code == 413
    assert response.json()["schemas"] == [ERROR] and "scimType" not in response.json()  # RFC 7644 gives 413 none
    assert (await client.get(f"{simulator}/_sim/requests")).json() == []


async def test_wrong_or_foreign_token_is_401_with_challenge(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    base = demo.scim_url("acme", "invicti")
    for headers in ({}, {"Authorization": "Bearer wrong"}, auth("globex"), {"Authorization": "Basic YTpi"}):
        response = await client.get(base + "/Users", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["schemas"] == [ERROR]
    unknown_tenant = base.replace("/tenants/acme/", "/tenants/nobody/")
    assert (await client.get(unknown_tenant + "/Users", headers=auth("acme"))).status_code == 401
