"""Working a manual app's queue: the admin endpoints (gateway/backed/manual/api.py) over loopback and
`scim-gateway work` both in-process on a config and against the running endpoints, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from scim2_models import UnauthorizedException
from starlette.applications import Starlette
from starlette.requests import Request

from gateway.backed.manual.api import work_routes
from gateway.cli import main
from gateway.inbound.serving import serving
from tests.backed.harness import entra_user
from tests.backed.manual_harness import FULFILMENT, ManualGateway, manual_gateway

OPERATOR_TOKEN = "ops-test-token"


@pytest.fixture
async def manual(database_url: str, keys: dict[str, str], tmp_path: Path):
    async with manual_gateway(database_url, keys, tmp_path / "audit.jsonl") as running:
        yield running


def operator_of(request: Request) -> str:
    """The stand-in for the admin API's operator check: one token, one name."""
    if request.headers.get("authorization") != f"Bearer {OPERATOR_TOKEN}":
        raise UnauthorizedException(detail="operator token required")
    return "ops-carol"


async def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    """`scim-gateway work ...` in this process (on a thread: the command runs its own event loop)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["work", *args])
    out = capsys.readouterr()
    if code == 0 and "--json" in args:
        return code, json.loads(out.out)
    return code, out.out + out.err


async def test_admin_endpoints_and_cli_work_the_queue(
    manual: ManualGateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "gateway.yaml"
    config_file.write_text(yaml.safe_dump(manual.config))
    admin = Starlette(routes=work_routes(operator_of))
    admin.state.runtime = manual.runtime
    async with serving(admin) as api, manual.client() as scim:
        root = f"{api.url}/admin/v1/tenants/acme/work"
        headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        ada = (await scim.post("/Users", json=entra_user("ada@acme.example", "e-ada"))).json()
        bob = (await scim.post("/Users", json=entra_user("bob@acme.example", "e-bob"))).json()

        # In-process on the config file.
        code, listed = await cli(capsys, "list", "--config", str(config_file), "--tenant", "acme", "--json")
        assert code == 0
        assert [(i["userName"], i["action"], i["state"]) for i in listed["items"]] == [
            ("ada@acme.example", "create", "open"),
            ("bob@acme.example", "create", "open"),
        ]
        ada_item, bob_item = (item["id"] for item in listed["items"])
        code, text = await cli(capsys, "claim", ada_item, "--config", str(config_file), "--tenant", "acme")
        assert code == 0 and "claimed" in text
        code, text = await cli(capsys, "complete", ada_item, "--config", str(config_file), "--tenant", "acme")
        assert code == 1 and "vendorId" in text  # a create needs the vendor's id

        # Against the running endpoints.
        async with httpx.AsyncClient(timeout=15) as client:
            assert (await client.get(root)).status_code == 401
            page = (await client.get(root, params={"state": "claimed"}, headers=headers)).json()
            assert [i["id"] for i in page["items"]] == [ada_item] and page["items"][0]["claimedBy"].startswith("cli:")
            empty = await client.post(f"{root}/{bob_item}/reject", json={"reason": " "}, headers=headers)
            assert empty.status_code == 400 and empty.json()["schemas"] == [
                "urn:ietf:params:scim:api:messages:2.0:Error"
            ]
            rejected = await client.post(
                f"{root}/{bob_item}/reject", json={"reason": "no Darktrace licence left"}, headers=headers
            )
            assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
            assert (
                rejected.json()["closedBy"] == "ops-carol" and rejected.json()["reason"] == "no Darktrace licence left"
            )
            again = await client.post(f"{root}/{bob_item}/claim", headers=headers)
            assert again.status_code == 409 and "rejected" in again.json()["detail"]
            missing = await client.post(f"{root}/00000000-0000-0000-0000-000000000000/claim", headers=headers)
            assert missing.status_code == 404

        code, text = await cli(
            capsys, "complete", ada_item, "--vendor-id", "dt-1", "--url", api.url, "--tenant", "acme",
            "--token", OPERATOR_TOKEN,
        )  # fmt: skip
        assert code == 0 and "done" in text and "dt-1" in text
        code, text = await cli(capsys, "list", "--url", api.url, "--tenant", "acme", "--token", "wrong")
        assert code == 1 and "401" in text
        code, done = await cli(
            capsys, "list", "--url", api.url, "--tenant", "acme", "--token", OPERATOR_TOKEN, "--json",
            "--state", "done", "--state", "rejected",
        )  # fmt: skip
        assert {(i["userName"], i["state"]) for i in done["items"]} == {
            ("ada@acme.example", "done"),
            ("bob@acme.example", "rejected"),
        }

        # What the IdP reads now.
        ada_now = (await scim.get(f"/Users/{ada['id']}")).json()[FULFILMENT]
        bob_now = (await scim.get(f"/Users/{bob['id']}")).json()[FULFILMENT]
        assert (ada_now["state"], ada_now["vendorId"]) == ("done", "dt-1")
        assert bob_now["state"] == "rejected" and "vendorId" not in bob_now


async def test_two_operators_completing_one_item_and_concurrent_idp_patches(manual: ManualGateway) -> None:
    work = manual.runtime.work
    assert work is not None
    async with manual.client() as scim:
        user = (await scim.post("/Users", json=entra_user("race@acme.example", "e-race"))).json()
        item = (await work.listing("acme"))["items"][0]["id"]
        outcomes = await asyncio.gather(
            work.complete("acme", item, "ops-1", "dt-1"),
            work.complete("acme", item, "ops-2", "dt-2"),
            return_exceptions=True,
        )
        won = [o for o in outcomes if isinstance(o, dict)]
        lost = [o for o in outcomes if not isinstance(o, dict)]
        assert len(won) == 1 and len(lost) == 1 and getattr(lost[0], "status", None) == 409
        read = (await scim.get(f"/Users/{user['id']}")).json()
        assert read[FULFILMENT]["vendorId"] == won[0]["vendorId"]

        def title(value: str) -> dict[str, Any]:
            return {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": value.split("=")[0], "value": value.split("=")[1]}],
            }

        answers = await asyncio.gather(
            scim.patch(f"/Users/{user['id']}", json=title("title=One")),
            scim.patch(f"/Users/{user['id']}", json=title("displayName=Two")),
        )
        assert [a.status_code for a in answers] == [200, 200]
        read = (await scim.get(f"/Users/{user['id']}")).json()
        assert (read["title"], read["displayName"]) == ("One", "Two")  # neither update lost
        assert read["meta"]["version"] == 'W/"4"'  # created, completed, two PATCHes
    items = (await work.listing("acme"))["items"]
    assert sorted(tuple(i["changed"]) for i in items) == [("displayName",), ("title",)]


async def test_the_queue_answers_503_while_the_directory_is_unavailable(
    manual: ManualGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.directory.errors import DirectoryUnavailable

    work = manual.runtime.work
    assert work is not None and manual.runtime.directory is not None

    def shut() -> None:
        raise DirectoryUnavailable("the directory is not ready")

    monkeypatch.setattr(manual.runtime.directory.availability, "gate", shut)
    admin = Starlette(routes=work_routes(operator_of))
    admin.state.runtime = manual.runtime
    async with serving(admin) as api, httpx.AsyncClient() as client:
        root = f"{api.url}/admin/v1/tenants/acme/work"
        headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        listed = await client.get(root, headers=headers)
        assert listed.status_code == 503 and "unavailable" in listed.json()["detail"]
        claimed = await client.post(f"{root}/{'0' * 32}/claim", headers=headers)
        assert claimed.status_code == 503
