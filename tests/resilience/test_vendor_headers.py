"""What the vendor sees on the wire: its own credential on every call, Content-Type only with a body.

Static credentials are signed once per app (gateway/outbound/client.py); this holds
the result to what per-request signing sent, over real HTTP to the simulator.
"""

from __future__ import annotations

from tests.resilience.harness import app_config, gateway, gateway_config, new_user, scim_client, simulator

USERS = "/api/scim/v2/Users"


async def test_every_vendor_call_is_signed_and_only_calls_with_a_body_declare_json() -> None:
    async with simulator() as sim:
        app = app_config(sim)
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await sim.settle()
            created = await client.post("/Users", json=new_user("wire@example.com", "ext-wire"))
            assert created.status_code == 201, created.text
            user_id = created.json()["id"]
            assert (await client.get(f"/Users/{user_id}")).status_code == 200
            assert (await client.get(f"/Users/{user_id}")).status_code == 200  # the pre-signed headers reused
            posts, gets = sim.requests("POST", USERS), sim.requests("GET", f"{USERS}/{user_id}")
            assert [entry["content_type"] for entry in posts] == ["application/scim+json"]
            assert len(gets) == 2 and all(entry["content_type"] is None for entry in gets)
            assert {entry["auth_scheme"] for entry in posts + gets} == {"Bearer"}
