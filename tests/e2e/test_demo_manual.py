"""The demo's acme/darktrace in `mode: manual` (issue 19, part 1, "done means"): an Entra-style sequence
produces work items, an operator completes them with `scim-gateway work --url` through the demo's admin API,
and the IdP then reads consistent state."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cli import main
from gateway.demo import DEMO_TOKENS, start_demo

FULFILMENT = "urn:ietf:params:scim:schemas:extension:scim-gateway:2.0:Fulfilment"
OPERATOR_TOKEN = "demo-operator-token"


def patch(path: str, value: Any) -> dict[str, Any]:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": path, "value": value}]}  # fmt: skip


async def test_entra_against_the_manual_darktrace_and_the_operator_completes_with_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with start_demo(data_dir=tmp_path / "demo") as demo:

        async def work(*args: str) -> Any:
            capsys.readouterr()
            remote = ("--url", demo.gateway.url, "--tenant", "acme", "--token", OPERATOR_TOKEN, "--json")
            code = await asyncio.to_thread(main, ["work", *args, *remote])
            out = capsys.readouterr()
            assert code == 0, out.err
            # The demo's own audit lines share this process's stdout; the CLI's answer is the indented JSON.
            answer, _ = json.JSONDecoder().raw_decode(out.out[out.out.index("{\n") :])
            return answer

        headers = {"Authorization": f"Bearer {DEMO_TOKENS['acme']}"}
        async with httpx.AsyncClient(base_url=demo.scim_url("acme", "darktrace"), headers=headers) as idp:
            types = (await idp.get("/ResourceTypes")).json()["Resources"]
            assert [t["name"] for t in types] == ["User"]  # no longer 501 for everything
            lookup = await idp.get("/Users", params={"filter": 'userName eq "ada@acme.example"'})
            assert lookup.json()["totalResults"] == 0
            user = {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "ada@acme.example",
                "externalId": "entra-ada",
                "displayName": "Ada Lovelace",
                "roles": [{"value": "Analyst", "primary": True}],
                "active": True,
            }
            created = await idp.post("/Users", json=user)
            assert created.status_code == 201 and created.json()[FULFILMENT]["state"] == "pending"
            path = f"/Users/{created.json()['id']}"
            assert (await idp.patch(path, json=patch("displayName", "Ada King"))).status_code == 200

            items = (await work("list"))["items"]
            assert [(i["app"], i["action"], i["userName"], i["roles"]) for i in items] == [
                ("darktrace", "create", "ada@acme.example", ["Analyst"]),
                ("darktrace", "update", "ada@acme.example", ["Analyst"]),
            ]
            claimed = await work("claim", items[0]["id"])
            assert claimed["claimedBy"] == "demo-operator"  # the operator token's name
            await work("complete", items[0]["id"], "--vendor-id", "dt-ada")
            await work("complete", items[1]["id"])

            read = (await idp.get(path)).json()
            assert read["displayName"] == "Ada King" and read[FULFILMENT]["state"] == "done"
            assert read[FULFILMENT]["vendorId"] == "dt-ada"
            assert (await idp.patch(path, json=patch("active", False))).status_code == 200
            assert [i["action"] for i in (await work("list"))["items"]] == ["deactivate"]
