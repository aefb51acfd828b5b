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
        # Deletes delete: the closed items of the deleted account keep what was done, not who it was.
        history = (await work.listing("acme", states=["done"]))["items"]
        assert [(i["action"], i["userName"], i["roles"]) for i in history] == [
            ("create", "", []), ("update", "", []), ("deactivate", "", []), ("delete", "", []),
        ]  # fmt: skip
        assert history[0]["vendorId"] == "dt-4711" and history[1]["changed"] == ["title"]
        # Completing twice is refused; the userName is free again.
        with pytest.raises(Exception, match="done"):
            await work.complete("acme", items[0]["id"], "ops-bob")
        recreated = await client.post("/Users", json=user)
        assert recreated.status_code == 201 and recreated.json()["id"] != user_id


async def test_a_failure_between_the_entry_and_its_work_item_stores_neither(
    manual: ManualGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.directory.work import WorkItems

    async def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the process died between the two writes")

    user = entra_user("lost@acme.example", "e-lost")
    async with manual.client() as client:
        kept = (await client.post("/Users", json=entra_user("kept@acme.example", "e-kept"))).json()
        with monkeypatch.context() as patched:
            patched.setattr(WorkItems, "add", fail)
            assert (await client.post("/Users", json=user)).status_code == 500
            changed = await client.put(
                f"/Users/{kept['id']}", json={**entra_user("kept@acme.example", "e-kept"), "title": "X"}
            )
            assert changed.status_code == 500
            assert (await client.delete(f"/Users/{kept['id']}")).status_code == 500
        # Neither the desired state nor an item: the IdP's retry starts from scratch.
        found = (await client.get("/Users", params={"filter": 'userName eq "lost@acme.example"'})).json()
        assert found["totalResults"] == 0
        still = (await client.get(f"/Users/{kept['id']}")).json()
        assert still["title"] == "Rear Admiral" and still["meta"]["version"] == 'W/"1"'
        assert [(i["action"], i["userName"]) for i in await open_items(manual)] == [("create", "kept@acme.example")]
        assert (await client.post("/Users", json=user)).status_code == 201
    assert len(await open_items(manual)) == 2


async def test_discovery_announces_users_with_the_fulfilment_extension_and_groups_are_501(
    manual: ManualGateway,
) -> None:
    async with manual.client() as client:
        types = (await client.get("/ResourceTypes")).json()["Resources"]
        assert [t["name"] for t in types] == ["User"]
        extensions = {e["schema"] for e in types[0]["schemaExtensions"]}
        assert FULFILMENT in extensions
        schema = (await client.get(f"/Schemas/{FULFILMENT}")).json()
        assert {a["name"]: a["mutability"] for a in schema["attributes"]}["state"] == "readOnly"
        config = (await client.get("/ServiceProviderConfig")).json()
        assert config["etag"]["supported"] is True and config["patch"]["supported"] is True
        groups = await client.post(
            "/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x"}
        )
        assert groups.status_code == 501 and "manual app" in groups.json()["detail"]
        assert (await client.get("/Groups")).status_code == 501


async def test_if_match_and_the_read_only_fulfilment(manual: ManualGateway) -> None:
    async with manual.client() as client:
        created = (await client.post("/Users", json=entra_user("etag@acme.example", "e-etag"))).json()
        path = f"/Users/{created['id']}"
        body = {**entra_user("etag@acme.example", "e-etag"), "title": "Admiral", FULFILMENT: {"state": "done"}}
        stale = await client.put(path, json=body, headers={"If-Match": 'W/"7"'})
        assert stale.status_code == 412
        put = await client.put(path, json=body, headers={"If-Match": 'W/"1"'})
        assert put.status_code == 200 and put.headers["ETag"] == 'W/"2"'
        assert put.json()[FULFILMENT]["state"] == "pending"  # the IdP cannot say it is done
        assert (await client.get(path, headers={"If-None-Match": 'W/"2"'})).status_code == 304
        assert (await client.get("/Users/not-a-uuid")).status_code == 404
    items = await open_items(manual)
    assert [(i["action"], i["changed"]) for i in items] == [("create", items[0]["changed"]), ("update", ["title"])]
