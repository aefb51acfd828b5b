"""`directory: link` on a SCIM pass-through vendor (Invicti): ids, correlation and versions kept, and
the vendor still answers what it can filter itself."""

from __future__ import annotations

import httpx

from tests.backed.harness import directory_section
from tests.resilience.harness import app_config, gateway, gateway_config, new_user, scim_client, simulator


async def test_link_mode_forwards_filters_on_what_the_vendor_stores(database_url: str, keys: dict[str, str]) -> None:
    async with simulator() as sim:
        app = app_config(sim, directory="link")
        config = gateway_config({"acme": {"apps": {"invicti": app}}}, directory=directory_section(database_url, keys))
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            created = await client.post("/Users", json=new_user("linked@acme.example", "ext-linked"))
            assert created.status_code == 201 and created.headers["ETag"] == 'W/"1"'
            sim.app.requests.clear()
            query = 'userName eq "linked@acme.example" and active eq true'
            found = (await client.get("/Users", params={"filter": query})).json()
            assert [user["id"] for user in found["Resources"]] == [created.json()["id"]]
            assert found["Resources"][0]["meta"]["version"] == 'W/"1"'
            (sent,) = [entry for entry in sim.requests("GET") if "filter" in entry["query"]]
            assert "linked@acme.example" in httpx.QueryParams(sent["query"])["filter"]  # filtered by Invicti
            by_external_id = (await client.get("/Users", params={"filter": 'externalId eq "ext-linked"'})).json()
            assert by_external_id["totalResults"] == 1
