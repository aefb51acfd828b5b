"""Issue 18's walk-through on the demo: an account made in Orca's own console is an orphan after a
reconcile started through the admin API, and the access review flags it against a roster."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from pathlib import Path

import httpx
import pytest

from gateway.demo import DemoEnvironment
from tests.e2e.conftest import auth

pytestmark = pytest.mark.asyncio(loop_scope="module")
OPERATOR = {"Authorization": "Bearer demo-operator-token"}


async def test_a_console_made_account_is_an_orphan_and_the_review_flags_it(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    orca = demo.simulator_url("orca", "acme")
    made = await client.post(orca + "/_sim/users", json={"email": "shadow.admin@acme.example", "role": "Admin"})
    assert made.status_code == 201, made.text
    shadow_id = made.json()["id"]
    provisioned = await client.post(
        demo.scim_url("acme", "orca") + "/Users",
        headers=auth("acme"),
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "known@acme.example"},
    )
    assert provisioned.status_code == 201, provisioned.text

    admin = f"{demo.gateway.url}/admin/v1/tenants/acme"
    started = await client.post(admin + "/apps/orca/reconcile", headers=OPERATOR)
    assert started.status_code == 202, started.text
    results: dict = {}
    for _ in range(200):
        results = (await client.get(admin + "/apps/orca/reconcile", headers=OPERATOR)).json()
        if results["finished_run"] is not None:
            break
        await asyncio.sleep(0.05)
    assert results["finished_run"]["status"] == "succeeded", results
    orphans = {f["vendorId"]: f for f in results["findings"] if f["state"] == "orphan"}
    assert shadow_id in orphans and provisioned.json()["id"] not in orphans

    roster = "userName,active\nknown@acme.example,true\n"
    review = await client.post(
        admin + "/access-review?format=csv", headers={**OPERATOR, "Content-Type": "text/csv"}, content=roster
    )
    assert review.status_code == 200, review.text
    rows = {(row["app"], row["userName"]): row for row in csv.DictReader(io.StringIO(review.text))}
    shadow = rows[("orca", "shadow.admin@acme.example")]
    assert "orphan" in shadow["flags"] and "not_in_roster" in shadow["flags"] and "privileged" in shadow["flags"]
    assert "not_in_roster" not in rows[("orca", "known@acme.example")]["flags"]


async def test_reconcile_needs_an_operator_token_with_the_work_scope(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    admin = f"{demo.gateway.url}/admin/v1/tenants/acme/apps/orca/reconcile"
    assert (await client.post(admin, headers=auth("acme"))).status_code == 401  # an IdP's SCIM token
    assert (await client.get(admin + "?limit=x", headers=OPERATOR)).status_code == 400


async def test_the_reconcile_command_against_a_running_gateway(demo: DemoEnvironment) -> None:
    command = Path(sys.executable).with_name("scim-gateway")
    process = await asyncio.create_subprocess_exec(
        str(command), "reconcile", "--url", demo.gateway.url, "--tenant", "acme", "--app", "orca",
        env={**os.environ, "SCIM_GATEWAY_OPERATOR_TOKEN": "demo-operator-token"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "orca: succeeded" in out.decode() and "orphan" in out.decode()
