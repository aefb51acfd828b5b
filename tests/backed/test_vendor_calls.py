"""What an IdP's sync costs at the vendor with `directory: full`: calls that change nothing there are not made."""

from __future__ import annotations

from tests.backed.harness import ENTERPRISE, PATCH_SCHEMA, BackedGateway, entra_user


async def test_entras_follow_up_patch_of_held_attributes_reads_once_even_for_an_invited_user(
    backed: BackedGateway,
) -> None:
    """Orca's new users stay `invited` (a status only Orca sets, readOnly in SCIM): a PATCH, which cannot
    carry it, must not count its absence as a change and write the user back."""
    app = "orca"
    async with backed.client(app) as client:
        created = await client.post("/Users", json=entra_user(f"invited.{app}@acme.example", f"inv-{app}"))
        assert created.status_code == 201, created.text
        simulator = backed.simulators[app]
        simulator.requests.clear()
        operations = [
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Platform"},
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "manager-7"},
            {"op": "Replace", "path": "nickName", "value": "amazing"},
        ]
        answer = await client.patch(
            f"/Users/{created.json()['id']}", json={"schemas": [PATCH_SCHEMA], "Operations": operations}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()[ENTERPRISE]["department"] == "Platform"
        calls = [(entry["method"], entry["path"]) for entry in simulator.requests if "token" not in entry["path"]]
        assert [method for method, _ in calls] == ["GET"]  # the user read once; nothing written, nothing read back


async def test_a_lookup_the_directory_cannot_answer_is_one_filtered_vendor_call(backed: BackedGateway) -> None:
    """Delinea filters `userName eq` itself: an account made outside the IdP is still found, in one call,
    and a userName nobody holds costs one call too (not a walk of every page)."""
    simulator = backed.simulators["delinea"]
    outside = next(iter(simulator.rest.users.values()))["userName"]  # type: ignore[attr-defined]
    async with backed.client("delinea") as client:
        for user_name, total in ((outside, 1), ("nobody@acme.example", 0)):
            simulator.requests.clear()
            found = await client.get("/Users", params={"filter": f'userName eq "{user_name}"'})
            assert found.status_code == 200 and found.json()["totalResults"] == total
            if total:
                assert found.json()["Resources"][0]["userName"] == user_name
            # Not the token grant, nor the health check's one-user page (it may run meanwhile).
            calls = [e for e in simulator.requests if "token" not in e["path"] and e["query"] != "skip=0&take=1"]
            assert len(calls) == 1 and "filter=" in calls[0]["query"], calls


async def test_a_patch_of_what_delinea_stores_reads_once_and_writes_once(backed: BackedGateway) -> None:
    """The connector's read-modify-write takes the resource the gateway read for this write (the intent holds
    the user for it) rather than reading it a second time."""
    simulator = backed.simulators["delinea"]
    async with backed.client("delinea") as client:
        created = await client.post("/Users", json=entra_user("stored.delinea@acme.example", "stored-delinea"))
        assert created.status_code == 201, created.text
        simulator.requests.clear()
        body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "Replace", "path": "title", "value": "Engineer"}]}
        answer = await client.patch(f"/Users/{created.json()['id']}", json=body)
        assert answer.status_code == 200 and answer.json()["title"] == "Engineer"
        calls = [e["method"] for e in simulator.requests if "token" not in e["path"] and e["query"] != "skip=0&take=1"]
        assert calls == ["GET", "PATCH"]
        assert simulator.rest.users[created.json()["id"]]["title"] == "Engineer"  # type: ignore[attr-defined]
