"""A manual app (acme/darktrace, `mode: manual`) over loopback, on SQLite and PostgreSQL: the IdP's writes
become the directory's desired state and work items; completing them makes what the IdP reads consistent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.backed.harness import PATCH_SCHEMA, entra_user
from tests.backed.manual_harness import FULFILMENT, ManualGateway, audit_records, manual_gateway


@pytest.fixture
async def manual(database_url: str, keys: dict[str, str], tmp_path: Path):
    async with manual_gateway(database_url, keys, tmp_path / "audit.jsonl") as running:
        yield running


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


async def open_items(manual: ManualGateway) -> list[dict[str, Any]]:
    assert manual.runtime.work is not None
    return (await manual.runtime.work.listing("acme"))["items"]


async def test_entra_sequence_produces_work_items_and_completion_makes_reads_consistent(
    database_url: str,
    keys: dict[str, str],
    tmp_path: Path,
) -> None:
    async with manual_gateway(database_url, keys, tmp_path / "audit.jsonl") as manual:
        await entra_sequence(manual)
    records = audit_records(manual.audit_file)  # flushed: the gateway has stopped
    operations = [(r["operation"], r["action"], r["actor"]) for r in records]
    assert operations[:3] == [
        ("work.opened", "create", "idp"),
        ("work.claimed", "create", "ops-alice"),
        ("work.completed", "create", "ops-alice"),
    ]
    assert len(records) == 3 + 2 * 2 + 2 + 1  # created, claimed, completed; 2 updates x2; delete x2; re-create
    assert all(r["target_user"].startswith("sha256:") for r in records)  # the audit policy: hashed
    assert not any("Analyst" in str(r) or "grace" in str(r) for r in records)


async def entra_sequence(manual: ManualGateway) -> None:
    user = entra_user("grace@acme.example", "entra-grace")
    user["roles"] = [{"value": "Analyst", "primary": True}]
    work = manual.runtime.work
    assert work is not None
    async with manual.client() as client:
        # Entra looks the user up before creating it.
        looked = await client.get("/Users", params={"filter": 'userName eq "grace@acme.example"'})
        assert looked.status_code == 200 and looked.json()["totalResults"] == 0
        created = await client.post("/Users", json=user)
        assert created.status_code == 201, created.text
        body = created.json()
        user_id = body["id"]
        assert body[FULFILMENT]["state"] == "pending" and body[FULFILMENT]["action"] == "create"
        assert created.headers["ETag"] == 'W/"1"'
        read = (await client.get(f"/Users/{user_id}")).json()
        assert read["userName"] == "grace@acme.example" and read["title"] == "Rear Admiral"
        assert read[FULFILMENT]["state"] == "pending" and "vendorId" not in read[FULFILMENT]
        # Duplicate detection and lookups, as for any app.
        again = await client.post("/Users", json={**user, "userName": "GRACE@acme.example"})
        assert again.status_code == 409 and again.json()["scimType"] == "uniqueness"
        by_external = (await client.get("/Users", params={"filter": 'externalId eq "entra-grace"'})).json()
        assert [r["id"] for r in by_external["Resources"]] == [user_id]
        pending = (await client.get("/Users", params={"filter": f'{FULFILMENT}:state eq "pending"'})).json()
        assert [r["id"] for r in pending["Resources"]] == [user_id]

        items = await open_items(manual)
        assert [(i["action"], i["userName"], i["roles"]) for i in items] == [
            ("create", "grace@acme.example", ["Analyst"])
        ]
        create_item = items[0]
        assert "userName" in create_item["changed"] and "title" in create_item["changed"]

        # The operator claims and completes it with the Darktrace-side id.
        await work.claim("acme", create_item["id"], "ops-alice")
        done = await work.complete("acme", create_item["id"], "ops-alice", "dt-4711")
        assert done["state"] == "done" and done["vendorId"] == "dt-4711"
        read = await client.get(f"/Users/{user_id}")
        assert read.json()[FULFILMENT] == {
            "state": "done",
            "action": "create",
            "workItem": create_item["id"],
            "vendorId": "dt-4711",
        }
        assert read.headers["ETag"] == 'W/"2"'  # the fulfilment changed what the IdP reads

        # Entra's PATCH of a title, then the deactivation.
        changed = await client.patch(
            f"/Users/{user_id}", json=patch({"op": "Replace", "path": "title", "value": "Commodore"})
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["title"] == "Commodore" and changed.json()[FULFILMENT]["state"] == "pending"
        same = await client.patch(
            f"/Users/{user_id}", json=patch({"op": "Replace", "path": "title", "value": "Commodore"})
        )
        assert same.json()["meta"]["version"] == changed.json()["meta"]["version"]  # no change: no item
        off = await client.patch(f"/Users/{user_id}", json=patch({"op": "Replace", "path": "active", "value": False}))
        assert off.status_code == 200 and off.json()["active"] is False
        items = await open_items(manual)
        assert [(i["action"], i["changed"], i["vendorId"]) for i in items] == [
            ("update", ["title"], "dt-4711"),
            ("deactivate", ["active"], "dt-4711"),
        ]
        for item in items:
            await work.complete("acme", item["id"], "ops-bob")
        read = (await client.get(f"/Users/{user_id}")).json()
        assert read["active"] is False and read[FULFILMENT]["state"] == "done"
        assert read[FULFILMENT]["action"] == "deactivate"

        # Delete: gone for the IdP at once, one item left for the person.
        deleted = await client.delete(f"/Users/{user_id}")
        assert deleted.status_code == 204
        assert (await client.get(f"/Users/{user_id}")).status_code == 404
        items = await open_items(manual)
        assert [(i["action"], i["userName"], i["vendorId"]) for i in items] == [
            ("delete", "grace@acme.example", "dt-4711")
        ]
        await work.complete("acme", items[0]["id"], "ops-bob")
        assert await open_items(manual) == []
        # Completing twice is refused; the userName is free again.
        with pytest.raises(Exception, match="done"):
            await work.complete("acme", items[0]["id"], "ops-bob")
        recreated = await client.post("/Users", json=user)
        assert recreated.status_code == 201 and recreated.json()["id"] != user_id
