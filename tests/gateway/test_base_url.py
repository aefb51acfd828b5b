"""The SCIM root in meta.location: the configured public URL, else each request's Host and scheme."""

from __future__ import annotations

from tests.resilience.harness import app_config, gateway, gateway_config, scim_client, simulator

ROOT = "/tenants/acme/apps/invicti/scim/v2"


async def test_each_host_and_forwarded_scheme_gets_its_own_root_every_time() -> None:
    async with simulator() as sim:
        config = gateway_config({"acme": {"apps": {"invicti": app_config(sim)}}})
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            for _ in range(2):  # the same answer the second time: nothing remembered from the first
                plain = await client.get("/ServiceProviderConfig", headers={"Host": "gw.example"})
                proxied = await client.get(
                    "/ServiceProviderConfig", headers={"Host": "other:8443", "X-Forwarded-Proto": "https"}
                )
                assert plain.json()["meta"]["location"] == f"http://gw.example{ROOT}/ServiceProviderConfig"
                assert proxied.json()["meta"]["location"] == f"https://other:8443{ROOT}/ServiceProviderConfig"


async def test_the_public_url_wins_over_the_host() -> None:
    async with simulator() as sim:
        config = gateway_config(
            {"acme": {"apps": {"invicti": app_config(sim)}}}, public_url="https://scim.example.com/"
        )
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            answer = await client.get("/ServiceProviderConfig", headers={"Host": "internal:8000"})
    assert answer.json()["meta"]["location"] == f"https://scim.example.com{ROOT}/ServiceProviderConfig"
