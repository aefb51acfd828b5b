"""POST .../people/offboard: every app at once, dry run first, idempotent, failed apps retried alone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.demo import DemoEnvironment
from tests.admin.conftest import admin_url, clear_requests, fault, operator, provision, simulator_requests

pytestmark = pytest.mark.asyncio(loop_scope="module")
USER_APPS = ["orca-scim", "delinea-scim", "delinea", "invicti", "spekit", "orca"]


async def offboard(client: httpx.AsyncClient, demo: DemoEnvironment, **body: Any) -> dict[str, Any]:
    response = await client.post(admin_url(demo, "acme", "/people/offboard"), json=body, headers=operator("demo"))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def states(client: httpx.AsyncClient, demo: DemoEnvironment, user_name: str) -> dict[str, Any]:
    url = admin_url(demo, "acme", "/people")
    response = await client.get(url, params={"userName": user_name}, headers=operator("demo"))
    return {
        answer["app"]: answer["accounts"][0]["active"] if answer.get("accounts") else answer["status"]
        for answer in response.json()["apps"]
    }


def results(answer: dict[str, Any]) -> dict[str, str]:
    return {result["app"]: result["status"] for result in answer["apps"]}


async def test_dry_run_then_deactivate_everywhere_then_again(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    await provision(client, demo, "paula.leaver@acme.example")
    dry = await offboard(client, demo, userName="paula.leaver@acme.example", dry_run=True)
    assert results(dry) == {**dict.fromkeys(USER_APPS, "would_deactivate"), "darktrace": "unsupported"}
    assert dry["complete"] is True and dry["dry_run"] is True
    unchanged = {**dict.fromkeys(USER_APPS, True), "darktrace": "unsupported"}
    assert await states(client, demo, "paula.leaver@acme.example") == unchanged

    done = await offboard(client, demo, userName="paula.leaver@acme.example", mode="deactivate")
    assert results(done) == {**dict.fromkeys(USER_APPS, "deactivated"), "darktrace": "unsupported"}
    assert done["complete"] is True and done["failed"] == []
    inactive = {**dict.fromkeys(USER_APPS, False), "darktrace": "unsupported"}
    assert await states(client, demo, "paula.leaver@acme.example") == inactive

    again = await offboard(client, demo, userName="paula.leaver@acme.example")
    assert results(again) == {**dict.fromkeys(USER_APPS, "already_inactive"), "darktrace": "unsupported"}
    assert [r["id"] for r in again["apps"][:6]] == [r["id"] for r in done["apps"][:6]]


async def test_a_partial_failure_is_retried_for_the_failed_apps_only(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    await provision(client, demo, "quinn.partial@acme.example")
    async with fault(client, demo, "spekit", "acme", {"status": 503, "method": "PATCH", "times": -1}):
        first = await offboard(client, demo, userName="quinn.partial@acme.example")
    assert first["complete"] is False and first["failed"] == ["spekit"]
    spekit = next(result for result in first["apps"] if result["app"] == "spekit")
    assert spekit["status"] == "failed" and spekit["retryable"] is True and "503" in spekit["detail"]
    assert all(results(first)[app] == "deactivated" for app in USER_APPS if app != "spekit")

    for vendor in ("orca", "invicti"):
        await clear_requests(client, demo, vendor, "acme")
    retry = await offboard(client, demo, userName="quinn.partial@acme.example", apps=first["failed"])
    assert results(retry) == {"spekit": "deactivated"} and retry["complete"] is True
    assert await simulator_requests(client, demo, "invicti", "acme") == [], "apps done before are not called again"
    states_now = await states(client, demo, "quinn.partial@acme.example")
    assert all(states_now[app] is False for app in USER_APPS)


async def test_a_refusal_is_not_retryable_and_its_detail_is_scrubbed(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    await provision(client, demo, "rita.refused@acme.example")
    said = {"detail": "no: token=abcdef0123456789abcdef at 10.9.8.7"}
    async with fault(client, demo, "invicti", "acme", {"status": 400, "method": "PATCH", "times": -1, "body": said}):
        answer = await offboard(client, demo, userName="rita.refused@acme.example", apps=["invicti"])
    (invicti,) = answer["apps"]
    assert invicti["status"] == "failed" and invicti["retryable"] is False
    assert "abcdef0123456789abcdef" not in invicti["detail"] and "10.9.8.7" not in invicti["detail"]


async def test_delete_mode_deletes_and_is_idempotent(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    await provision(client, demo, "sam.deleted@acme.example")
    apps = ["orca-scim", "invicti", "spekit"]
    dry = await offboard(client, demo, userName="sam.deleted@acme.example", mode="delete", dry_run=True, apps=apps)
    assert results(dry) == dict.fromkeys(apps, "would_delete")
    done = await offboard(client, demo, userName="sam.deleted@acme.example", mode="delete", apps=apps)
    assert results(done) == dict.fromkeys(apps, "deleted")
    again = await offboard(client, demo, userName="sam.deleted@acme.example", mode="delete", apps=apps)
    assert results(again) == dict.fromkeys(apps, "not_found")
    still = await states(client, demo, "sam.deleted@acme.example")
    assert still["delinea-scim"] is True and still["orca-scim"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"userName": ""},
        {"userName": "a@b.example", "mode": "suspend"},
        {"userName": "a@b.example", "dry_run": "yes"},
        {"userName": "a@b.example", "apps": ["no-such-app"]},
        {"userName": "a@b.example", "apps": []},
        {"userName": "a@b.example", "force": True},
    ],
    ids=["empty", "blank", "mode", "dry_run", "unknown-app", "no-apps", "unknown-key"],
)
async def test_bad_requests_are_refused_before_any_vendor_call(
    demo: DemoEnvironment, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    await clear_requests(client, demo, "spekit", "acme")
    response = await client.post(admin_url(demo, "acme", "/people/offboard"), json=body, headers=operator("demo"))
    assert response.status_code == 400 and response.json()["status"] == "400"
    assert await simulator_requests(client, demo, "spekit", "acme") == []
