"""What a vendor answers is untrusted input.

A page is never longer than asked (RFC 7644 §3.4.2.4). A vendor's error text
that echoes the app's credential, a JWT or internal addresses reaches neither
the SCIM error, nor the `app_health` log line, nor /status.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from gateway.inbound.auth import hash_token
from tests.resilience.harness import (
    TEST_METRICS,
    app_config,
    gateway,
    gateway_config,
    new_user,
    one_app,
    scim_client,
    simulator,
)

USERS = "/api/scim/v2/Users"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
OPERATOR_TOKEN = "operator-test-token"
WORDY_TOKEN = "Correct-Horse-Battery-Staple-Sideways"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzY2ltLWdhdGV3YXkifQ.c2lnbmF0dXJlLW9mLXRoZS12ZW5kb3I"
INTERNAL = (
    "https://svc:hunter2@scim-db.corp.internal:8443/v2/Users",
    "scim-db.corp.internal",
    "10.20.30.40",
    "hunter2",
)


def echoing_error(token: str) -> dict[str, Any]:
    """A vendor error body echoing the credential it was sent, a token it issued and its internals."""
    detail = (
        f"userName is invalid for Authorization: Bearer {token} (credential {token}, session {JWT});"
        f" upstream {INTERNAL[0]} at {INTERNAL[2]}:5432 refused it"
    )
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": detail, "scimType": "invalidValue"}


def assert_clean(text: str, token: str) -> None:
    for leaked in (token, JWT, *INTERNAL):
        assert leaked not in text, f"{leaked!r} leaked into: {text}"


async def test_a_vendor_page_longer_than_count_is_trimmed_with_its_total_kept() -> None:
    async with one_app() as (sim, server), scim_client(server, "acme", "invicti") as client:
        stored = sim.users()
        assert len(stored) >= 3
        # A SCIM vendor that ignores `count` and answers every user it holds.
        everything = {"schemas": [LIST_RESPONSE], "totalResults": 40, "Resources": stored}
        sim.fault(method="GET", path=USERS, status=200, body=everything)
        answer = await client.get("/Users", params={"startIndex": 1, "count": 2})
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert [user["id"] for user in page["Resources"]] == [user["id"] for user in stored[:2]]
    assert page["itemsPerPage"] == 2 and page["totalResults"] == 40
    assert sim.requests("GET", USERS)[0]["query"].endswith("count=2")


@pytest.mark.parametrize("status", [400, 500])
async def test_a_vendor_error_echoing_secrets_becomes_our_own_words(status: int) -> None:
    # A credential with no token shape (no digits, no hex): only knowing the app's secrets can remove it.
    async with simulator(scim_token=WORDY_TOKEN) as sim:
        config = gateway_config({"acme": {"apps": {"invicti": app_config(sim, retry={"attempts": 1})}}})
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            await sim.settle()
            sim.fault(method="POST", path=USERS, status=status, body=echoing_error(sim.token))
            answer = await client.post("/Users", json=new_user("leak@example.com"))
    error = answer.json()
    assert_clean(answer.text, sim.token)
    assert "'acme/invicti'" in error["detail"]
    if status == 400:  # a rejection keeps a scrubbed excerpt and the RFC scimType: the caller can act on it
        assert answer.status_code == 400 and error["scimType"] == "invalidValue"
        assert "the vendor rejected the request (HTTP 400)" in error["detail"]
        assert "userName is invalid for Authorization: Bearer [redacted]" in error["detail"]
    else:
        assert answer.status_code >= 500 and "refused it" not in error["detail"]


async def test_the_health_log_line_and_status_page_never_show_what_the_vendor_echoed() -> None:
    async with simulator(scim_token=WORDY_TOKEN) as sim:
        sim.fault(method="GET", path=USERS, status=400, body=echoing_error(sim.token), times=-1)
        observability = {
            "audit": {"file": os.devnull},
            "health_check_interval": 3600,
            "operator_tokens": [{"name": "ops", "sha256": hash_token(OPERATOR_TOKEN)}],
            **TEST_METRICS,
        }
        config = gateway_config({"acme": {"apps": {"invicti": app_config(sim)}}}, observability=observability)
        with capture_logs() as events:
            async with gateway(config) as server, httpx.AsyncClient() as client:
                for _ in range(500):  # bounded: the start-up check reaches the vendor at once
                    if any(event["event"] == "app_health" for event in events):
                        break
                    await asyncio.sleep(0.01)
                page = await client.get(server.url + "/status", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    health = [event for event in events if event["event"] == "app_health"]
    assert health and health[0]["ok"] is False
    assert "the vendor rejected the request (HTTP 400)" in health[0]["detail"]
    assert page.status_code == 200 and "the vendor rejected the request (HTTP 400)" in page.text
    assert_clean(repr(events), sim.token)
    assert_clean(page.text, sim.token)
