"""Every admin call is audited: operator token name, tenant, action, outcome; offboarding per app too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from gateway.demo import DEMO_TOKENS
from tests.admin.conftest import admin_demo, admin_url, fault, operator, provision


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_admin_calls_are_audited_with_their_operator_and_outcome(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.jsonl"
    async with admin_demo(audit_file) as demo, httpx.AsyncClient(timeout=30) as client:
        await provision(client, demo, "yuri.audited@acme.example")
        people, offboard, review = (
            admin_url(demo, "acme", path) for path in ("/people", "/people/offboard", "/access-review")
        )
        ids: dict[str, str] = {}

        async def send(label: str, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
            response = await client.request(method, url, headers=headers | {"X-Request-ID": label}, **kwargs)
            ids[label] = response.headers["x-request-id"]
            return response

        await send("find", "GET", people, operator("reader"), params={"userName": "yuri.audited@acme.example"})
        body = {"userName": "yuri.audited@acme.example", "apps": ["spekit", "invicti"]}
        await send("dry", "POST", offboard, operator("offboarder"), json={**body, "dry_run": True})
        await send("offboard", "POST", offboard, operator("offboarder"), json=body)
        await send("denied", "GET", review, operator("offboarder"))
        await send("scim-token", "GET", people, {"Authorization": f"Bearer {DEMO_TOKENS['acme']}"})
        streamed = await send("review", "POST", review, operator("reader"), content=b"zed.rostered@acme.example\n")
        assert streamed.status_code == 200
    assert ids == {label: label for label in ids}, "the caller's request ids are echoed and recorded"
    by_id: dict[str, list[dict[str, Any]]] = {}
    for record in records(audit_file):
        by_id.setdefault(record["request_id"], []).append(record)

    (find,) = by_id["find"]
    assert find["token_name"] == "reader" and find["tenant"] == "acme" and find["operation"] == "admin.people.find"
    assert find["outcome"] == "success" and find["status"] == 200 and find["method"] == "GET"
    assert find["route"] == "/admin/v1/tenants/{tenant}/people" and find["target_user"] == "yuri.audited@acme.example"
    assert find["upstream_calls"] >= 6, "at least one search per app with a user API (OAuth adds its token call)"

    assert [record["operation"] for record in by_id["dry"]] == ["admin.people.offboard"], "a dry run changes nothing"
    call, *apps = sorted(by_id["offboard"], key=lambda record: record["operation"])
    assert call["operation"] == "admin.people.offboard" and call["token_name"] == "offboarder"
    assert call["outcome"] == "success" and call["target_user"] == "yuri.audited@acme.example"
    assert {(r["app"], r["outcome"], r["token_name"]) for r in apps} == {
        ("spekit", "deactivated", "offboarder"),
        ("invicti", "deactivated", "offboarder"),
    }
    assert all(r["operation"] == "admin.people.offboard.app" and r["resource_id"] for r in apps)
    assert all(set(r) == set(call) for r in apps), "per-app records have every audit field"
    # Each app's own exchanges (find, then PATCH); the call's record counts them all.
    assert all(r["upstream_calls"] >= 2 and all(200 <= s < 300 for s in r["upstream_statuses"]) for r in apps), apps
    assert call["upstream_calls"] == sum(r["upstream_calls"] for r in apps)

    (denied,) = by_id["denied"]
    assert denied["outcome"] == "denied" and denied["status"] == 403 and denied["token_name"] == "offboarder"
    (scim,) = by_id["scim-token"]
    assert scim["outcome"] == "denied" and scim["status"] == 401 and scim["token_name"] is None
    (review_record,) = by_id["review"]
    assert review_record["operation"] == "admin.access_review" and review_record["status"] == 200
    # Every page's call is counted (Orca's REST list may come from its connector's short-lived snapshot).
    assert review_record["upstream_calls"] >= 5 and set(review_record["upstream_statuses"]) == {200}
    assert "zed.rostered" not in audit_file.read_text(), "a roster's names never reach the audit"


async def test_the_audit_policy_hashes_the_target_of_admin_calls(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.jsonl"
    async with admin_demo(audit_file, user_name="hashed") as demo, httpx.AsyncClient(timeout=30) as client:
        await provision(client, demo, "zara.hashed@acme.example")
        url = admin_url(demo, "acme", "/people/offboard")
        body = {"userName": "zara.hashed@acme.example", "apps": ["spekit"]}
        assert (await client.post(url, json=body, headers=operator("demo"))).status_code == 200
    assert "zara.hashed" not in audit_file.read_text()
    admin = [record for record in records(audit_file) if record["operation"].startswith("admin.")]
    assert len(admin) == 2 and all(record["target_user"].startswith("sha256:") for record in admin)


async def test_a_review_cut_short_by_its_client_is_audited_as_cancelled(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.jsonl"
    slow = {"method": "GET", "latency": 2.0, "times": 1}
    headers = operator("reader") | {"X-Request-ID": "left-early"}
    # Spekit (the fifth app) answers slowly: the client has the first apps' rows and leaves meanwhile.
    async with (
        admin_demo(audit_file) as demo,
        httpx.AsyncClient(timeout=30) as client,
        fault(client, demo, "spekit", "acme", slow),
        client.stream("GET", admin_url(demo, "acme", "/access-review"), headers=headers) as response,
    ):
        assert response.status_code == 200
        first = await anext(response.aiter_bytes())
        assert first.startswith(b"app,vendor,kind,")
    (record,) = [record for record in records(audit_file) if record["request_id"] == "left-early"]
    assert record["status"] == 499 and record["outcome"] == "cancelled" and record["token_name"] == "reader"
