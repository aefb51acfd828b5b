"""The deprovisioning guard over loopback: three gateways sharing one directory database (SQLite and
PostgreSQL), an IdP deactivating and deleting through any of them, the Delinea REST simulator's request
log proving what reached the vendor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backed.harness import PATCH_SCHEMA, USER_SCHEMA, vendor_simulators
from tests.deprovisioning.harness import (
    OPERATOR_TOKEN,
    VIEWER_TOKEN,
    admin,
    audit_records,
    gateways,
    guarded_config,
    scim,
)

GUARD = {"guard": {"max_deprovisions": 3, "window": "10m", "retry_after": "2m"}}
DEACTIVATE = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": False}]}
ENTRA_DEACTIVATE = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "Replace", "value": {"active": "False"}}]}


def new_user(index: int) -> dict[str, Any]:
    name = f"guard.{index}@acme.example"
    return {"schemas": [USER_SCHEMA], "userName": name, "emails": [{"value": name, "primary": True}], "active": True}


async def vendor_writes(urls: dict[str, str], ids: list[str]) -> list[tuple[str, str]]:
    """(method, id) of every PATCH and DELETE the Delinea simulator received for `ids`."""
    async with httpx.AsyncClient() as client:
        log = (await client.get(urls["delinea"] + "/_sim/requests")).json()
    wanted = set(ids)
    return [
        (entry["method"], entry["path"].rsplit("/", 1)[-1])
        for entry in log
        if entry["method"] in ("PATCH", "DELETE") and entry["path"].rsplit("/", 1)[-1] in wanted
    ]


async def test_a_burst_trips_the_guard_on_every_replica_and_approval_releases_it(
    database_url: str, keys: dict[str, str], tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with vendor_simulators() as (_, urls):
        raw = guarded_config(urls, database_url, keys, audit, **GUARD)
        async with gateways(raw, 3) as servers:
            idps = [scim(server) for server in servers]
            ids = []
            for index in range(8):  # creates are never held
                created = await idps[index % 3].post("/Users", json=new_user(index))
                assert created.status_code == 201, created.text
                ids.append(created.json()["id"])
            # Up to the threshold, through three replicas, in three shapes: PATCH with a path, Entra's
            # path-less PATCH with the string "False", and PUT.
            answer = await idps[0].patch(f"/Users/{ids[0]}", json=DEACTIVATE)
            assert answer.status_code == 200 and answer.json()["active"] is False
            answer = await idps[1].patch(f"/Users/{ids[1]}", json=ENTRA_DEACTIVATE)
            assert answer.status_code == 200 and answer.json()["active"] is False
            current = (await idps[2].get(f"/Users/{ids[2]}")).json()
            answer = await idps[2].put(f"/Users/{ids[2]}", json={**current, "active": False})
            assert answer.status_code == 200 and answer.json()["active"] is False
            async with admin(servers[0]) as operator:
                status = (await operator.get("/guard")).json()
            assert status["counted_in_window"] == 3 and not status["holding"]
            held = await idps[0].patch(f"/Users/{ids[3]}", json=DEACTIVATE)
            assert held.status_code == 503 and held.headers["Retry-After"] == "120"
            assert "deprovisioning guard" in held.json()["detail"] and "held" in held.json()["detail"]
            deleted = await idps[1].delete(f"/Users/{ids[4]}")
            assert deleted.status_code == 503 and "approves or rejects" in deleted.json()["detail"]
            # Ordinary updates and creates go through while the batch is held; a repeat of a
            # deactivation already made is no deprovision.
            renamed = await idps[2].patch(
                f"/Users/{ids[5]}",
                json={"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "title", "value": "CFO"}]},
            )
            assert renamed.status_code == 200, renamed.text
            assert (await idps[2].post("/Users", json=new_user(99))).status_code == 201
            assert (await idps[2].patch(f"/Users/{ids[0]}", json=DEACTIVATE)).status_code == 200
            # The IdP retries on another replica: still held. Nothing of the batch reached Delinea.
            assert (await idps[2].patch(f"/Users/{ids[3]}", json=DEACTIVATE)).status_code == 503
            assert (await idps[0].delete(f"/Users/{ids[4]}")).status_code == 503
            assert not [write for write in await vendor_writes(urls, ids[3:5])]
            async with httpx.AsyncClient() as browser:
                page = await browser.get(f"{servers[1].url}/status", params={"token": OPERATOR_TOKEN})
                assert page.status_code == 200 and "holding 2 deprovisions since" in page.text
            async with admin(servers[2]) as operator:
                status = (await operator.get("/guard")).json()
                assert status["holding"] and status["entries_by_status"]["held"] == 2
                assert {(e["id"], e["operation"]) for e in status["entries"]} == {
                    (ids[3], "deactivate"),
                    (ids[4], "delete"),
                }
                async with admin(servers[2], token=VIEWER_TOKEN) as viewer:
                    assert (await viewer.get("/guard")).status_code == 200
                    assert (await viewer.post("/guard/approve")).status_code == 403  # approving needs `approve`
                stale = await operator.post("/guard/approve", json={"batch": "00000000-0000-0000-0000-000000000000"})
                assert stale.status_code == 409
                approved = await operator.post("/guard/approve", json={"batch": status["batch"]})
                assert approved.status_code == 200 and approved.json()["entries"] == 2
            # After approval the IdP's retries go through, on any replica.
            released = await idps[1].patch(f"/Users/{ids[3]}", json=DEACTIVATE)
            assert released.status_code == 200 and released.json()["active"] is False
            assert (await idps[2].delete(f"/Users/{ids[4]}")).status_code == 204
            assert sorted(await vendor_writes(urls, ids[3:5])) == [("DELETE", ids[4]), ("PATCH", ids[3])]
            # Counting starts again from nothing.
            assert (await idps[0].delete(f"/Users/{ids[6]}")).status_code == 204
            async with httpx.AsyncClient() as browser:
                page = await browser.get(f"{servers[0].url}/status", params={"token": OPERATOR_TOKEN})
                assert "counting: 1 of 3 per 10m" in page.text
            held_count = servers[0].runtime.metrics.registry.get_sample_value(
                "scim_gateway_deprovisions_total", {"tenant": "acme", "app": "delinea", "decision": "held"}
            )
            assert held_count == 2  # this replica held two calls (the first try of ids[3] and a retry of ids[4])
            for client in idps:
                await client.aclose()
    records = audit_records(audit)
    verdicts = [(r.get("deprovision_guard"), r["status"]) for r in records if r.get("deprovision_guard")]
    assert ("held", 503) in verdicts and ("approved", 200) in verdicts and ("approved", 204) in verdicts
    calls = [r for r in records if r.get("operation") == "admin.guard.approve"]
    assert [(r["token_name"], r["app"], r["status"]) for r in calls] == [
        ("viewer", None, 403),
        ("ops", "delinea", 409),
        ("ops", "delinea", 200),
    ]
    decisions = [r for r in records if r.get("operation") == "guard.approve"]
    assert len(decisions) == 1 and decisions[0]["entries"] == 2 and decisions[0]["operator"] == "ops"


@pytest.mark.parametrize("mode", ["off", "full"])
async def test_rejection_refuses_until_reset_and_the_batch_survives_a_restart(
    mode: str, database_url: str, keys: dict[str, str], tmp_path: Path
) -> None:
    """On an app without the directory's entries, and on one that keeps them (`full`)."""
    async with vendor_simulators() as (_, urls):
        raw = guarded_config(urls, database_url, keys, tmp_path / "audit.jsonl", mode, **GUARD)
        async with gateways(raw, 1) as (server,), scim(server) as idp:
            ids = [(await idp.post("/Users", json=new_user(index))).json()["id"] for index in range(6)]
            for user_id in ids[:3]:
                assert (await idp.delete(f"/Users/{user_id}")).status_code == 204
            assert (await idp.delete(f"/Users/{ids[3]}")).status_code == 503
            assert (await idp.patch(f"/Users/{ids[4]}", json=DEACTIVATE)).status_code == 503
        # Every replica restarted: the held batch is in the database.
        async with gateways(raw, 2) as servers, scim(servers[0]) as idp, admin(servers[1]) as operator:
            assert (await idp.delete(f"/Users/{ids[3]}")).status_code == 503
            assert (await operator.get("/guard")).json()["entries_by_status"]["held"] == 2
            rejected = await operator.post("/guard/reject")
            assert rejected.status_code == 200 and rejected.json()["entries"] == 2
            refused = await idp.delete(f"/Users/{ids[3]}")
            assert refused.status_code == 409 and "rejected" in refused.json()["detail"]
            assert (await idp.patch(f"/Users/{ids[4]}", json=DEACTIVATE)).status_code == 409
            assert (await operator.post("/guard/approve")).status_code == 409  # nothing held any more
            assert not await vendor_writes(urls, ids[3:5])
            assert (await operator.post("/guard/reset")).json()["entries"] == 2
            assert (await idp.delete(f"/Users/{ids[3]}")).status_code == 204  # counted anew
            assert await vendor_writes(urls, [ids[3]]) == [("DELETE", ids[3])]
