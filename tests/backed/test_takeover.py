"""The account takeover policy: a create that meets an account made outside the IdP (issue 19, part 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.app import create_app
from gateway.config import parse_config
from gateway.directory.records import Origin
from gateway.inbound.serving import serving
from gateway.runtime import Runtime
from tests.backed.harness import directory_section, okta_user, raw_config, scim_client, vendor_simulators


async def _existing_orca_user(client: Any) -> dict[str, Any]:
    """One of the accounts Orca's simulator starts with (made in Orca, not through the gateway)."""
    users = (await client.get("/Users", params={"count": 100})).json()["Resources"]
    return next(user for user in users if user.get("roles", [{}])[0].get("value") == "Viewer")


@pytest.mark.parametrize("policy", [None, "refuse", "link"])
async def test_on_existing(policy: str | None, database_url: str, keys: dict[str, str], tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    async with vendor_simulators() as (_, urls):
        raw = raw_config(urls, directory_section(database_url, keys))
        raw["observability"] = {**raw["observability"], "audit": {"file": str(audit)}}
        if policy is not None:
            raw["tenants"]["acme"]["apps"]["orca"]["on_existing"] = policy
        gateway_app = create_app(parse_config(raw))
        async with serving(gateway_app) as server, scim_client(server, "orca") as client:
            existing = await _existing_orca_user(client)
            created = await client.post("/Users", json=okta_user(existing["userName"], "okta-existing"))
            if policy != "link":  # Orca has an Admin role: refusing is its default
                assert created.status_code == 409 and created.json()["scimType"] == "uniqueness"
                assert "outside the IdP" in created.json()["detail"]
                assert (await client.get(f"/Users/{existing['id']}")).json().get("title") is None  # untouched
                return
            assert created.status_code == 201, created.text
            adopted = created.json()
            assert adopted["id"] == existing["id"]  # the same account, now the IdP's
            assert adopted["title"] == "Analyst" and adopted["externalId"] == "okta-existing"
            assert adopted["displayName"] == "Ada Lovelace"  # the create's values were applied at Orca
            runtime: Runtime = gateway_app.state.runtime
            resources = runtime.tenants["acme"].apps["orca"].resources
            assert resources is not None
            entry = await resources.by_vendor_id("User", existing["id"])
            assert entry is not None and entry.origin is Origin.ADOPTED
    records = [orjson.loads(line) for line in audit.read_bytes().splitlines()]
    assert any(r.get("operation") == "adopt" and r["resource_id"] == existing["id"] for r in records)
