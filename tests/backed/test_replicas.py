"""Three `scim-gateway serve` processes sharing one PostgreSQL: an IdP whose calls land on any replica
reads back what it wrote, and concurrent writes through different replicas lose nothing."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.postgres import PostgresServer
from tests.backed.harness import ENTERPRISE, PATCH_SCHEMA, directory_section, entra_user, raw_config, vendor_simulators
from tests.processes import gateway_process
from tests.resilience.harness import TOKENS

REPLICAS = 3


async def test_an_entra_sequence_across_three_replicas(
    postgres: PostgresServer, keys: dict[str, str], tmp_path: Path
) -> None:
    async with postgres.database() as url, vendor_simulators() as (_, urls), contextlib.AsyncExitStack() as stack:
        raw = raw_config(urls, directory_section(url, keys))
        raw["observability"] = {**raw["observability"], "metrics_port": None}
        config = tmp_path / "gateway.yaml"
        config.write_text(yaml.safe_dump(raw))
        processes = [await stack.enter_async_context(gateway_process(config)) for _ in range(REPLICAS)]
        for app in ("orca", "delinea"):
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=f"{process.url}/tenants/acme/apps/{app}/scim/v2",
                        headers={"Authorization": f"Bearer {TOKENS['acme']}"},
                        timeout=15,
                    )
                )
                for process in processes
            ]
            await _entra_sequence(clients, app)


async def _entra_sequence(clients: list[httpx.AsyncClient], app: str) -> None:
    """Each step on the next replica, as behind a load balancer."""
    replica = iter(clients * 10)
    user = entra_user(f"replicas.{app}@acme.example", f"entra-replicas-{app}")
    lookup = await next(replica).get("/Users", params={"filter": f'userName eq "{user["userName"]}"'})
    assert lookup.json()["totalResults"] == 0
    created = await next(replica).post("/Users", json=user)
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    matched = (await next(replica).get("/Users", params={"filter": f'externalId eq "{user["externalId"]}"'})).json()
    assert [found["id"] for found in matched["Resources"]] == [user_id]
    assert (await next(replica).get(f"/Users/{user_id}")).json()[ENTERPRISE]["employeeNumber"] == "701"
    patches: list[dict[str, Any]] = [
        {"op": "Replace", "path": "title", "value": "Commodore"},
        {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "702"},
        {"op": "Add", "path": 'addresses[type eq "work"].postalCode', "value": "22201"},
    ]
    for operation in patches:
        answer = await next(replica).patch(
            f"/Users/{user_id}", json={"schemas": [PATCH_SCHEMA], "Operations": [operation]}
        )
        assert answer.status_code == 200, answer.text

    async def add_phone(client: httpx.AsyncClient, index: int) -> None:
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "add", "path": "phoneNumbers", "value": [{"value": f"+1 555 {index}"}]}],
        }
        for _ in range(100):
            answer = await client.patch(f"/Users/{user_id}", json=body)
            if answer.status_code != 503:
                assert answer.status_code == 200, answer.text
                return
            await asyncio.sleep(0.02)

    await asyncio.gather(*(add_phone(client, index) for index, client in enumerate(clients)))
    read = (await next(replica).get(f"/Users/{user_id}")).json()
    assert read["title"] == "Commodore" and read[ENTERPRISE]["employeeNumber"] == "702"
    assert read["addresses"][0]["postalCode"] == "22201"
    assert {f"+1 555 {index}" for index in range(len(clients))} <= {p["value"] for p in read["phoneNumbers"]}
    assert read["meta"]["version"] == f'W/"{1 + len(patches) + len(clients)}"'
    deactivate = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    assert (await next(replica).patch(f"/Users/{user_id}", json=deactivate)).json()["active"] is False
    assert (await next(replica).delete(f"/Users/{user_id}")).status_code == 204
    for client in clients:
        assert (await client.get(f"/Users/{user_id}")).status_code == 404
