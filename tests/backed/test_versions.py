"""Versions: ETags and preconditions (RFC 7644 section 3.14), and no lost update between replicas."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import httpx

from gateway.app import create_app
from gateway.config import parse_config
from gateway.inbound.serving import RunningServer, serving
from tests.backed.harness import PATCH_SCHEMA, BackedGateway, backed_gateway, okta_user, scim_client
from vendors.simulators.base import FaultRule


async def test_etag_if_none_match_and_if_match(backed: BackedGateway) -> None:
    async with backed.client("delinea") as client:
        created = await client.post("/Users", json=okta_user("etag@acme.example", "etag-1"))
        user_id, etag = created.json()["id"], created.headers["ETag"]
        read = await client.get(f"/Users/{user_id}")
        assert read.headers["ETag"] == etag == read.json()["meta"]["version"]
        unchanged = await client.get(f"/Users/{user_id}", headers={"If-None-Match": etag})
        assert unchanged.status_code == 304 and unchanged.headers["ETag"] == etag and not unchanged.content
        body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "title", "value": "Dr"}]}
        changed = await client.patch(f"/Users/{user_id}", json=body, headers={"If-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] == 'W/"2"'
        stale = await client.patch(f"/Users/{user_id}", json=body, headers={"If-Match": etag})
        assert stale.status_code == 412 and stale.json()["status"] == "412"
        assert (await client.delete(f"/Users/{user_id}", headers={"If-Match": etag})).status_code == 412
        assert (await client.get(f"/Users/{user_id}")).json()["title"] == "Dr"  # the refused writes changed nothing
        assert (await client.put(f"/Users/{user_id}", json=okta_user("etag@acme.example", "etag-1"),
                                 headers={"If-Match": "*"})).status_code == 200  # fmt: skip
        assert (await client.delete(f"/Users/{user_id}", headers={"If-Match": 'W/"3"'})).status_code == 204


@contextlib.asynccontextmanager
async def replicas(backed: BackedGateway, count: int) -> AsyncIterator[list[RunningServer]]:
    """`count` more gateways on the same config: the same simulators and the same directory database."""
    async with contextlib.AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(serving(create_app(parse_config(backed.config)))) for _ in range(count)
        ]
        yield servers


async def test_concurrent_patches_through_three_gateways_lose_no_update(backed: BackedGateway) -> None:
    async with replicas(backed, 2) as others, contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(scim_client(server, "orca")) for server in [backed.gateway, *others]]
        user_id = (await clients[0].post("/Users", json=okta_user("race@acme.example", "race-1"))).json()["id"]
        statuses: list[int] = []

        async def add_phone(index: int) -> None:
            body = {
                "schemas": [PATCH_SCHEMA],
                "Operations": [{"op": "add", "path": "phoneNumbers", "value": [{"value": f"+1 555 01{index:02}"}]}],
            }
            client = clients[index % len(clients)]
            for _ in range(50):  # as an IdP does: a 503 with Retry-After is retried
                response = await client.patch(f"/Users/{user_id}", json=body)
                statuses.append(response.status_code)
                if response.status_code != 503:
                    assert response.status_code == 200, response.text
                    return
                assert response.headers["Retry-After"]
                await asyncio.sleep(0.01)
            raise AssertionError("never applied")

        await asyncio.gather(*(add_phone(index) for index in range(12)))
        read = (await clients[1].get(f"/Users/{user_id}")).json()
    phones = {phone["value"] for phone in read["phoneNumbers"]}
    assert {f"+1 555 01{index:02}" for index in range(12)} <= phones
    assert read["meta"]["version"] == 'W/"13"'  # the create and twelve PATCHes, each its own version
    assert set(statuses) <= {200, 503}


async def test_a_busy_write_is_answered_503_with_retry_after(backed: BackedGateway) -> None:
    async with backed.client("orca") as first, backed.client("orca") as second:
        user_id = (await first.post("/Users", json=okta_user("busy@acme.example", "busy-1"))).json()["id"]
        backed.simulators["orca"].requests.clear()
        backed.simulators["orca"].add_fault(_slow_put())
        body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "displayName", "value": "A"}]}
        slow = asyncio.create_task(first.patch(f"/Users/{user_id}", json=body))
        await _until(lambda: any(r["method"] == "PATCH" for r in backed.simulators["orca"].requests))
        other = await second.patch(f"/Users/{user_id}", json=body)
        assert other.status_code == 503 and other.headers["Retry-After"] == "1"
        assert (await slow).status_code == 200


def _slow_put() -> FaultRule:
    return FaultRule(method="PATCH", latency=1.0)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never met")


async def test_link_mode_refuses_what_the_vendor_cannot_store(database_url: str, keys: dict[str, str]) -> None:
    async with backed_gateway(database_url, keys, mode="link") as linked, linked.client("orca") as client:
        refused = await client.post("/Users", json=okta_user("link@acme.example", "link-1"))
        assert refused.status_code == 400 and refused.json()["scimType"] == "invalidValue"
        assert "nickName" in refused.json()["detail"] and "directory: full" in refused.json()["detail"]
        plain = {"schemas": okta_user("x", "y")["schemas"], "userName": "link@acme.example", "externalId": "link-1"}
        created = await client.post("/Users", json=plain)
        assert created.status_code == 201 and created.json()["externalId"] == "link-1"  # correlation kept
        found = await client.get("/Users", params={"filter": 'externalId eq "link-1"'})
        assert found.json()["totalResults"] == 1
        assert httpx.codes.is_success(created.status_code)
