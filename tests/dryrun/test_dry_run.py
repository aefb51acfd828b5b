"""Dry-run apps over loopback (Delinea REST and Orca REST simulators, directory on SQLite and PostgreSQL):
writes are answered as the vendor would, marked, audited and recorded sealed; the simulators' request
logs prove that no write reached them; reads still do."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from gateway.directory.engine import create_engine
from gateway.directory.schema import dry_run_calls, resources
from gateway.orchestrator import DRY_RUN_HEADER
from tests.backed.harness import PATCH_SCHEMA, USER_SCHEMA, vendor_simulators
from tests.deprovisioning.harness import admin, audit_records, gateways, guarded_config, scim

#: Paths a dry-run app may still POST to: its OAuth token endpoint (signing its reads).
TOKEN_PATHS = ("/identity/connect/token",)


@pytest.mark.parametrize("vendor", ["delinea", "orca"])
async def test_a_dry_run_app_sends_no_write_and_records_what_it_would_have_sent(
    vendor: str, database_url: str, keys: dict[str, str], tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with vendor_simulators() as (_, urls):
        raw = guarded_config(urls, database_url, keys, audit, dry_run=True)
        async with (
            gateways(raw, 1) as (gateway,),
            scim(gateway, vendor) as idp,
            admin(gateway, vendor) as operator,
            httpx.AsyncClient(base_url=urls[vendor]) as control,
        ):
            listed = await idp.get("/Users")
            assert listed.status_code == 200 and DRY_RUN_HEADER not in listed.headers
            existing = listed.json()["Resources"][0]
            before = await idp.get(f"/Users/{existing['id']}")
            await control.delete("/_sim/requests")
            name = f"dry.run@{vendor}.example"
            user = {
                "schemas": [USER_SCHEMA],
                "userName": name,
                "displayName": "Dry Run",
                "emails": [{"value": name, "primary": True}],
                "password": "Sup3r-secret!",
            }
            created = await idp.post("/Users", json=user, headers={"X-Request-ID": "idp-create-1"})
            assert created.status_code == 201, created.text
            assert created.headers[DRY_RUN_HEADER] == "true"
            assert created.json()["userName"] == name and created.json()["id"].startswith("dry-run-")
            assert "password" not in created.json()
            title = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "displayName", "value": "X"}]}
            patched = await idp.patch(f"/Users/{existing['id']}", json=title)
            assert patched.status_code == 200 and patched.headers[DRY_RUN_HEADER] == "true"
            assert patched.json()["displayName"] == "X" and patched.json()["userName"] == existing["userName"]
            deleted = await idp.delete(f"/Users/{existing['id']}")
            assert deleted.status_code == 204 and deleted.headers[DRY_RUN_HEADER] == "true"
            assert (await idp.delete("/Users/no-such-user")).status_code == 404  # as the vendor would answer
            # Nothing was written at the vendor: it answered reads (and token requests) only.
            log = (await control.get("/_sim/requests")).json()
            assert log and {entry["method"] for entry in log if entry["path"] not in TOKEN_PATHS} == {"GET"}
            after = await idp.get(f"/Users/{existing['id']}")
            assert after.status_code == 200 and after.json()["displayName"] == before.json()["displayName"]
            assert name not in (await idp.get("/Users", params={"count": 1000})).text
            recorded = (await operator.get("/dry-run")).json()["calls"]
        operations = [call["operation"] for call in recorded]
        assert operations[0] == "create" and "patch" in operations and operations[-1] == "delete"
        create = recorded[0]
        assert create["method"] == "POST" and create["resource_type"] == "User"
        assert create["request_id"] == "idp-create-1"  # the audit record of the IdP's call has the same id
        assert name in str(create["body"]) and "Sup3r-secret!" not in str(recorded)
        assert any(call["method"] == "PATCH" and "X" in str(call["body"]) for call in recorded)
        assert recorded[-1]["method"] in ("DELETE", "PATCH")  # Orca may deactivate instead (delete_mode)
        assert existing["id"] in recorded[-1]["path"]
        # Sealed at rest: the recorded body names a person, the database does not show it.
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                sealed = [bytes(row.call) for row in await connection.execute(select(dry_run_calls.c.call))]
        finally:
            await engine.dispose()
        assert sealed and not any(name.encode() in value for value in sealed)
    writes = [r for r in audit_records(audit) if r.get("method") in ("POST", "PATCH", "DELETE") and r.get("app")]
    assert writes and all(r.get("dry_run") is True for r in writes if r["status"] < 300)


async def test_a_dry_run_app_keeps_no_entries_in_the_directory(
    database_url: str, keys: dict[str, str], tmp_path: Path
) -> None:
    """`directory: full` and `dry_run: true`: only the recorded calls are kept, no resource entry."""
    async with vendor_simulators() as (_, urls):
        raw = guarded_config(urls, database_url, keys, tmp_path / "audit.jsonl", "full", dry_run=True)
        async with gateways(raw, 1) as (gateway,), scim(gateway) as idp:
            name = "kept.nowhere@acme.example"
            user = {"schemas": [USER_SCHEMA], "userName": name, "emails": [{"value": name}], "title": "Held?"}
            created = await idp.post("/Users", json=user)
            assert created.status_code == 201 and created.json()["title"] == "Held?"
            assert gateway.runtime.settlers() == []  # nothing to settle: no intents are written
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                entries = (await connection.execute(select(func.count()).select_from(resources))).scalar_one()
                recorded = (await connection.execute(select(func.count()).select_from(dry_run_calls))).scalar_one()
        finally:
            await engine.dispose()
        assert entries == 0 and recorded == 1
