"""The operator's day, as processes: `scim-gateway serve` with acme/darktrace in `mode: manual`, an Entra-style
sequence over HTTP, and `scim-gateway work` run as its own process on the same config and database (SQLite
file or PostgreSQL); afterwards the IdP reads consistent state."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from gateway.inbound.serving import serving
from tests.backed.harness import PATCH_SCHEMA, entra_user
from tests.backed.manual_harness import FULFILMENT, audit_records, manual_config
from tests.processes import SCIM_GATEWAY, gateway_process
from tests.resilience.harness import TOKENS
from vendors.registry import simulator


async def work(config: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(SCIM_GATEWAY), "work", *args, "--config", str(config), "--tenant", "acme",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def listed(config: Path, *args: str) -> list[dict[str, Any]]:
    code, out, err = await work(config, "list", "--json", *args)
    assert code == 0, err
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return items


def patch(path: str, value: Any) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "Replace", "path": path, "value": value}]}


async def test_entra_sequence_then_the_operator_works_the_queue_with_the_cli(
    database_url: str, keys: dict[str, str], tmp_path: Path
) -> None:
    darktrace = simulator("darktrace")
    audit = tmp_path / "audit.jsonl"
    async with serving(darktrace.create_app(darktrace.demo_settings("acme"))) as appliance:
        config = tmp_path / "gateway.yaml"
        config.write_text(yaml.safe_dump(manual_config(database_url, keys, appliance.url, audit)))
        async with (
            gateway_process(config) as gateway,
            httpx.AsyncClient(
                base_url=f"{gateway.url}/tenants/acme/apps/darktrace/scim/v2",
                headers={"Authorization": f"Bearer {TOKENS['acme']}"},
                timeout=15,
            ) as idp,
        ):
            lookup = await idp.get("/Users", params={"filter": 'userName eq "jdoe@acme.example"'})
            assert lookup.json()["totalResults"] == 0
            user = {**entra_user("jdoe@acme.example", "e-jdoe"), "roles": [{"value": "Analyst"}]}
            created = (await idp.post("/Users", json=user)).json()
            path = f"/Users/{created['id']}"
            assert (await idp.get(path)).json()[FULFILMENT]["state"] == "pending"
            assert (await idp.patch(path, json=patch("title", "Lead"))).status_code == 200
            assert (await idp.patch(path, json=patch("active", False))).status_code == 200

            items = await listed(config)
            assert [(i["action"], i["userName"]) for i in items] == [
                ("create", "jdoe@acme.example"), ("update", "jdoe@acme.example"), ("deactivate", "jdoe@acme.example"),
            ]  # fmt: skip
            code, out, _ = await work(config, "list")
            assert code == 0 and "jdoe@acme.example" in out and "deactivate" in out  # the table
            create, update, deactivate = (item["id"] for item in items)
            assert (await work(config, "claim", create))[0] == 0
            code, out, _ = await work(config, "complete", create, "--vendor-id", "dt-77")
            assert code == 0 and "done" in out
            assert (await work(config, "complete", update))[0] == 0
            code, _, err = await work(config, "reject", deactivate, "--reason", "Darktrace console is down")
            assert code == 0
            code, _, err = await work(config, "complete", deactivate)
            assert code == 1 and "409" in err and "rejected" in err

            read = (await idp.get(path)).json()
            assert (read["title"], read["active"]) == ("Lead", False)
            assert read[FULFILMENT] == {"state": "rejected", "action": "deactivate", "workItem": deactivate,
                                        "vendorId": "dt-77"}  # fmt: skip
            assert (await idp.patch(path, json=patch("active", True))).status_code == 200  # Entra retries later
            assert (await idp.delete(path)).status_code == 204
            pending = await listed(config)
            assert [i["action"] for i in pending] == ["update", "delete"]
            for item in pending:
                assert (await work(config, "complete", item["id"]))[0] == 0
            assert await listed(config) == []
            assert (await idp.get(path)).status_code == 404
    actors = {record["actor"] for record in audit_records(audit)}
    assert "idp" in actors and any(actor.startswith("cli:") for actor in actors)
