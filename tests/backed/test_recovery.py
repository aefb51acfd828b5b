"""Write intents whose outcome was lost (a vendor answer that never came, a process killed mid-write)
are settled from the vendor's state: the directory and the vendor never silently disagree."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import yaml

from gateway.backed.operations import DirectoryOperations
from gateway.backed.recovery import intent_state, sweep
from gateway.clock import Clock
from gateway.directory.records import IntentOp
from gateway.outbound.budget import CallBudget
from gateway.runtime import Runtime
from tests.backed.harness import (
    PATCH_SCHEMA,
    backed_gateway,
    directory_section,
    okta_user,
    raw_config,
    vendor_simulators,
)
from tests.processes import gateway_process
from tests.resilience.harness import TOKENS
from vendors.base import Kind
from vendors.simulators.base import FaultRule


def rename(display_name: str, title: str) -> dict[str, Any]:
    operations = [
        {"op": "replace", "path": "displayName", "value": display_name},  # stored by Orca
        {"op": "replace", "path": "title", "value": title},  # held by the gateway
    ]
    return {"schemas": [PATCH_SCHEMA], "Operations": operations}


async def test_a_write_whose_answer_was_lost_is_settled_by_the_next_write(
    database_url: str, keys: dict[str, str]
) -> None:
    async with backed_gateway(database_url, keys, settle_after=0.2) as backed, backed.client("orca") as client:
        user_id = (await client.post("/Users", json=okta_user("lost@acme.example", "lost-1"))).json()["id"]
        # Orca applies every PATCH, then a proxy answers 502: the gateway cannot know the write happened.
        backed.simulators["orca"].add_fault(FaultRule(method="PATCH", status=502, after=True, times=-1))
        lost = await client.patch(f"/Users/{user_id}", json=rename("Ada King", "Countess"))
        assert lost.status_code in (502, 503), lost.text
        backed.simulators["orca"].faults.clear()
        await asyncio.sleep(0.3)  # the intent outlives settle_after (a real request would have ended by then)
        after = await client.patch(
            f"/Users/{user_id}",
            json={"schemas": [PATCH_SCHEMA], "Operations": [{"op": "add", "path": "nickName", "value": "ak"}]},
        )
        assert after.status_code == 200, after.text
        read = after.json()
    # The lost write was found applied at Orca and confirmed, held title included; then the next one ran.
    assert read["displayName"] == "Ada King" and read["title"] == "Countess" and read["nickName"] == "ak"
    assert read["meta"]["version"] == 'W/"3"'


async def test_an_unapplied_write_is_abandoned(database_url: str, keys: dict[str, str]) -> None:
    async with backed_gateway(database_url, keys, settle_after=0.2) as backed, backed.client("orca") as client:
        user_id = (await client.post("/Users", json=okta_user("unapplied@acme.example", "un-1"))).json()["id"]
        # The connection drops before Orca acts: the outcome is unknown to the gateway, but nothing happened.
        backed.simulators["orca"].add_fault(FaultRule(method="PATCH", reset=True, times=-1))
        assert (await client.patch(f"/Users/{user_id}", json=rename("Nobody", "Nothing"))).status_code >= 500
        backed.simulators["orca"].faults.clear()
        await asyncio.sleep(0.3)
        touch = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "add", "path": "nickName", "value": "u"}]}
        read = (await client.patch(f"/Users/{user_id}", json=touch)).json()
    assert read["displayName"] == "Ada Lovelace" and read["title"] == "Analyst"  # the intent was abandoned
    assert read["meta"]["version"] == 'W/"2"'


async def test_a_gateway_killed_between_the_vendor_write_and_the_directory_is_recovered(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}"
    async with vendor_simulators() as (apps, urls):
        raw = raw_config(urls, directory_section(database, keys, settle_after=0.5, sweep_every=0.2))
        raw["observability"] = {**raw["observability"], "metrics_port": None}
        config = tmp_path / "gateway.yaml"
        config.write_text(yaml.safe_dump(raw))
        async with gateway_process(config) as first, scim_client_for(first.url) as client:
            user_id = (await client.post("/Users", json=okta_user("killed@acme.example", "kill-1"))).json()["id"]
            apps["orca"].requests.clear()
            # Orca applies the PATCH, then its answer is held back while the gateway is killed.
            apps["orca"].add_fault(FaultRule(method="PATCH", latency=30, after=True))
            write = asyncio.create_task(client.patch(f"/Users/{user_id}", json=rename("Ada King", "Countess")))
            await until(lambda: any(entry["method"] == "PATCH" for entry in apps["orca"].requests))
            await asyncio.sleep(0.1)  # the PATCH is applied at Orca (the fault delays only its answer)
            first.process.kill()
            await first.process.wait()
            with contextlib.suppress(httpx.HTTPError):
                await write
        apps["orca"].faults.clear()
        async with gateway_process(config) as second, scim_client_for(second.url) as client:
            read: dict[str, Any] = {}
            for _ in range(100):  # the start-up sweep settles the intent once it is older than settle_after
                read = (await client.get(f"/Users/{user_id}")).json()
                if read["meta"]["version"] == 'W/"2"':
                    break
                await asyncio.sleep(0.1)
            assert read["meta"]["version"] == 'W/"2"', read
            assert read["displayName"] == "Ada King" and read["title"] == "Countess"
            again = await client.patch(f"/Users/{user_id}", json=rename("Ada Lovelace", "Analyst"))
            assert again.status_code == 200 and again.json()["meta"]["version"] == 'W/"3"'


def scim_client_for(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{url}/tenants/acme/apps/orca/scim/v2",
        headers={"Authorization": f"Bearer {TOKENS['acme']}"},
        timeout=15,
    )


async def until(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never met")


async def test_the_sweep_settles_create_and_delete_intents_from_the_vendor(
    database_url: str, keys: dict[str, str]
) -> None:
    async with backed_gateway(database_url, keys, settle_after=0.05) as backed, backed.client("orca") as client:
        kept = (await client.post("/Users", json=okta_user("kept@acme.example", "kept-1"))).json()
        runtime: Runtime = backed.gateway.server.config.app.state.runtime
        resources = runtime.tenants["acme"].apps["orca"].resources
        assert resources is not None
        # A create that reached Orca (made here in Orca, as the lost POST would have) and one that did not.
        landed = okta_user("landed@acme.example", "landed-1")
        operations = runtime.tenants["acme"].apps["orca"].operations
        assert isinstance(operations, DirectoryOperations)
        budget = CallBudget.starting_now(Clock(), 10.0)
        at_orca = await operations.plain.provision(budget, Kind.USER, landed)
        created = await resources.record_intent("User", IntentOp.CREATE, intent_state(landed))
        missing = await resources.record_intent(
            "User", IntentOp.CREATE, intent_state(okta_user("no@acme.example", "n"))
        )
        entry = await resources.by_vendor_id("User", kept["id"])
        assert entry is not None
        deleting = await resources.record_intent(
            "User", IntentOp.DELETE, entry.state, id=entry.id, expected_version=entry.version
        )
        await asyncio.sleep(0.1)
        assert await sweep(runtime.settlers(), Clock(), 10.0) == 3
        confirmed = await resources.get("User", created.id)
        assert confirmed is not None and confirmed.visible and confirmed.vendor_id == at_orca["id"]
        assert await resources.get("User", missing.id) is None  # never reached Orca: abandoned, row gone
        still = await resources.get("User", deleting.id)
        assert still is not None and still.pending is None and still.version == entry.version  # Orca still has it
        landed_read = (await client.get(f"/Users/{at_orca['id']}")).json()
        assert landed_read["externalId"] == "landed-1" and landed_read["nickName"] == "ada"
