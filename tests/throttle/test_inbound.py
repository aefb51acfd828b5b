"""Inbound limits through the real gateway over loopback: isolation, 429 + Retry-After, max_wait, per-app."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tests.resilience.harness import (
    TEST_OBSERVABILITY,
    TOKENS,
    app_config,
    gateway,
    gateway_config,
    metric_value,
    scim_client,
    simulator,
)


async def test_noisy_neighbour_is_throttled_and_the_other_tenant_is_not() -> None:
    async with simulator("acme") as acme_sim, simulator("globex") as globex_sim:
        config = gateway_config(
            {
                "acme": {"limits": {"rate": 1000, "burst": 1000}, "apps": {"invicti": app_config(acme_sim)}},
                "globex": {
                    "limits": {"rate": 5, "burst": 5, "max_wait": 0},
                    "apps": {"invicti": app_config(globex_sim)},
                },
            }
        )
        async with (
            gateway(config) as server,
            scim_client(server, "globex", "invicti") as noisy,
            scim_client(server, "acme", "invicti") as quiet,
        ):
            await globex_sim.settle()
            started = time.monotonic()
            noisy_calls = [noisy.get("/Users", params={"count": "1"}) for _ in range(40)]
            quiet_calls = [quiet.get("/Users", params={"count": "1"}) for _ in range(20)]
            answers = await asyncio.gather(*noisy_calls, *quiet_calls)
            elapsed = time.monotonic() - started
            noisy_answers, quiet_answers = answers[:40], answers[40:]

            assert [a.status_code for a in quiet_answers] == [200] * 20
            ok = [a for a in noisy_answers if a.status_code == 200]
            refused = [a for a in noisy_answers if a.status_code == 429]
            assert len(ok) + len(refused) == 40
            assert 5 <= len(ok) <= 5 + 5 * elapsed + 1
            for answer in refused:
                assert answer.headers["Retry-After"].isdigit() and int(answer.headers["Retry-After"]) >= 1
                body = answer.json()
                assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
                assert body["status"] == "429"
            # Refused requests never reached the vendor.
            assert len(globex_sim.requests("GET", "/Users")) == len(ok)
            assert await metric_value(server, "scim_gateway_throttled_requests_total", tenant="globex") == len(refused)
            assert await metric_value(server, "scim_gateway_throttled_requests_total", tenant="acme") == 0


async def test_max_wait_absorbs_a_small_burst_instead_of_refusing_it() -> None:
    async with simulator() as sim:
        config = gateway_config(
            {"acme": {"limits": {"rate": 20, "burst": 1, "max_wait": 0.5}, "apps": {"invicti": app_config(sim)}}}
        )
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            started = time.monotonic()
            answers = await asyncio.gather(*(client.get("/ServiceProviderConfig") for _ in range(5)))
            elapsed = time.monotonic() - started
            assert [a.status_code for a in answers] == [200] * 5
            assert elapsed >= 0.2 - 0.01  # four of them waited for their slots (0.05 s apart)
            # Beyond max_wait: 20 more at once need up to 1 s of slots; those past 0.5 s are refused. How many
            # arrive "at once" depends on the machine, so the bounds follow from GCRA and the measured window:
            # each admission moves the slot 0.05 s on and none may wait past 0.5 s, so at most
            # 0.55 / 0.05 = 11 plus 20/s of the window are admitted; and a refusal means the slot is already
            # 0.5 s ahead, which takes at least (0.5 - 0.05) / 0.05 = 9 admissions from this batch.
            started = time.monotonic()
            answers = await asyncio.gather(*(client.get("/ServiceProviderConfig") for _ in range(20)))
            elapsed = time.monotonic() - started
            codes = [a.status_code for a in answers]
            admitted = codes.count(200)
            assert set(codes) <= {200, 429}
            assert admitted <= 11 + 20 * elapsed + 1, (admitted, elapsed)
            assert codes.count(429) == 0 or admitted >= 9, codes


async def test_per_app_limit_inside_a_tenant_leaves_other_apps_alone() -> None:
    async with simulator() as sim:
        apps = {"invicti": app_config(sim, limits={"rate": 1, "burst": 2, "max_wait": 0}), "other": app_config(sim)}
        config = gateway_config({"acme": {"limits": {"rate": 1000, "burst": 1000}, "apps": apps}})
        async with (
            gateway(config) as server,
            scim_client(server, "acme", "invicti") as limited,
            scim_client(server, "acme", "other") as free,
        ):
            limited_codes = [(await limited.get("/ServiceProviderConfig")).status_code for _ in range(5)]
            free_codes = [(await free.get("/ServiceProviderConfig")).status_code for _ in range(5)]
            assert limited_codes == [200, 200, 429, 429, 429]
            assert free_codes == [200] * 5


async def test_retry_after_says_when_a_slot_frees() -> None:
    async with simulator() as sim:
        config = gateway_config(
            {"acme": {"limits": {"rate": 0.25, "burst": 1, "max_wait": 0}, "apps": {"invicti": app_config(sim)}}}
        )
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            assert (await client.get("/ServiceProviderConfig")).status_code == 200
            refused = await client.get("/ServiceProviderConfig")
            assert refused.status_code == 429
            assert refused.headers["Retry-After"] == "4"  # one request per 4 s


async def test_a_throttled_call_is_recorded_with_its_operation_and_route(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    async with simulator() as sim:
        config = gateway_config(
            {"acme": {"limits": {"rate": 0.25, "burst": 1, "max_wait": 0}, "apps": {"invicti": app_config(sim)}}},
            observability={**TEST_OBSERVABILITY, "audit": {"file": str(audit)}},
        )
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            assert (await client.get("/ServiceProviderConfig")).status_code == 200
            refused = await client.get("/Users/2819c223")
            assert refused.status_code == 429
            labels = {"tenant": "acme", "app": "invicti", "status_class": "4xx"}
            assert await metric_value(server, "scim_gateway_requests_total", operation="get", **labels) == 1
            assert await metric_value(server, "scim_gateway_requests_total", operation="unknown") == 0
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    (record,) = [record for record in records if record["status"] == 429]
    assert record["outcome"] == "throttled"
    assert record["operation"] == "get"
    assert record["route"] == "/tenants/{tenant}/apps/{app}/scim/v2/Users/{id}"
    assert (record["resource_type"], record["resource_id"]) == ("User", "2819c223")


async def test_refusals_are_answered_before_the_body_is_read(tmp_path: Path) -> None:
    """A 401 and a 429 never wait for the body (nor parse it): the head alone decides, and both are audited."""
    audit = tmp_path / "audit.jsonl"
    async with simulator() as sim:
        config = gateway_config(
            {"acme": {"limits": {"rate": 0.25, "burst": 1, "max_wait": 0}, "apps": {"invicti": app_config(sim)}}},
            observability={**TEST_OBSERVABILITY, "audit": {"file": str(audit)}},
        )
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            assert (await client.get("/ServiceProviderConfig")).status_code == 200  # the one slot
            statuses = []
            for token in ("wrong", TOKENS["acme"]):
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(
                    b"POST /tenants/acme/apps/invicti/scim/v2/Users HTTP/1.1\r\nHost: gw\r\n"
                    + f"Authorization: Bearer {token}\r\n".encode()
                    + b"Content-Type: application/scim+json\r\nContent-Length: 100000\r\n\r\n{not json"
                )
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)  # 99,991 body bytes never sent
                statuses.append(int(head.split(b" ", 2)[1]))
                writer.close()
            assert statuses == [401, 429]
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    refused = [(r["status"], r["outcome"], r["operation"]) for r in records if r["status"] != 200]
    assert refused == [(401, "denied", "unknown"), (429, "throttled", "create")]
