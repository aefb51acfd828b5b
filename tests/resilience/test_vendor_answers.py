"""What a vendor answers is untrusted input: a page is never longer than asked (RFC 7644 §3.4.2.4)."""

from __future__ import annotations

from tests.resilience.harness import one_app, scim_client

USERS = "/api/scim/v2/Users"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


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
