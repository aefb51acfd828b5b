"""Exactly one audit record per call, whatever the outcome (issue 5: audit log)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.observability.helpers import OPERATOR_TOKEN, demo_gateway, scim_client

SCIM_JSON = {"Content-Type": "application/scim+json"}
FIELDS = {
    "event", "timestamp", "request_id", "tenant", "app", "vendor", "token_name", "client_ip", "method", "route",
    "operation", "resource_type", "resource_id", "target_user", "outcome", "status", "scim_type",
    "upstream_calls", "upstream_statuses", "duration_ms",
}  # fmt: skip


def new_user(user_name: str) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
    }


def read_records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_every_call_yields_exactly_one_audit_record(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.jsonl"
    expected: dict[str, int] = {}  # request id -> status the caller saw
    async with demo_gateway({"audit": {"file": str(audit_file)}}) as demo:
        invicti = demo.scim_url("acme", "invicti")
        sim = demo.simulator_url("invicti", "acme")
        async with scim_client() as client:

            async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
                request_id = uuid.uuid4().hex
                headers = {"X-Request-ID": request_id, **kwargs.pop("headers", {})}
                response = await client.request(method, url, headers=headers, **kwargs)
                assert response.headers["X-Request-ID"] == request_id
                expected[request_id] = response.status_code
                return response

            assert (await call("GET", f"{invicti}/Users")).status_code == 200
            created = await call("POST", f"{invicti}/Users", content=orjson.dumps(new_user("ada@acme.test")),
                                 headers=SCIM_JSON)  # fmt: skip
            assert created.status_code == 201
            user_id = created.json()["id"]
            assert (await call("GET", f"{invicti}/Users/{user_id}")).status_code == 200
            assert (await call("GET", f"{invicti}/Users/no-such-id")).status_code == 404
            assert (await call("POST", f"{invicti}/Users", content=b"{not json", headers=SCIM_JSON)).status_code == 400
            assert (await call("GET", f"{invicti}/Users", headers={"Authorization": "Bearer wrong"})).status_code == 401
            assert (await call("GET", demo.scim_url("nosuchtenant", "invicti") + "/Users")).status_code == 401
            assert (await call("GET", demo.scim_url("acme", "nosuchapp") + "/Users")).status_code == 404
            assert (await call("POST", f"{invicti}/Bulk", content=b"{}", headers=SCIM_JSON)).status_code == 501
            assert (await call("DELETE", f"{invicti}/Users/{user_id}")).status_code == 204
            # Vendor failures: a 500 (-> 502) and a 429 without Retry-After (-> 429), injected in the simulator;
            # the 429 comes last: it pauses the app's calls for the Retry-After the caller is told.
            await client.post(f"{sim}/_sim/faults", json={"rules": [{"status": 500, "method": "GET", "times": 1}]})
            assert (await call("GET", f"{invicti}/Users")).status_code == 502
            await client.post(f"{sim}/_sim/faults", json={"rules": [{"status": 429, "method": "GET", "times": -1}]})
            assert (await call("GET", f"{invicti}/Users")).status_code == 429
            await client.delete(f"{sim}/_sim/faults")
            # Non-SCIM calls: unknown paths and the status page are audited; probes and scrapes are not.
            assert (await call("GET", f"{demo.gateway.url}/no/such/path")).status_code == 404
            assert (await call("OPTIONS", f"{invicti}/Users")).status_code == 405
            status_page = await call("GET", f"{demo.gateway.url}/status",
                                     headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})  # fmt: skip
            assert status_page.status_code == 200
            for probe in ("/healthz", "/readyz"):
                assert (await client.get(demo.gateway.url + probe)).status_code == 200
            assert (await client.get(demo.metrics_url)).status_code == 200
    records = read_records(audit_file)
    assert all(record["event"] == "audit" and set(record) == FIELDS for record in records)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_id.setdefault(record["request_id"], []).append(record)
    assert set(by_id) == set(expected), "every call and nothing else (no probes) is audited"
    for request_id, status in expected.items():
        assert len(by_id[request_id]) == 1, f"exactly one record per call: {by_id[request_id]}"
        assert by_id[request_id][0]["status"] == status
    outcomes = [by_id[request_id][0] for request_id in expected]
    create = next(record for record in outcomes if record["operation"] == "create" and record["status"] == 201)
    assert create["tenant"] == "acme" and create["app"] == "invicti" and create["vendor"] == "invicti"
    assert create["token_name"] == "demo" and create["client_ip"] == "127.0.0.1"
    assert create["route"] == "/tenants/{tenant}/apps/{app}/scim/v2/Users"
    assert create["resource_type"] == "User" and create["resource_id"] == user_id
    assert create["target_user"] == "ada@acme.test" and create["outcome"] == "success"
    assert create["upstream_calls"] >= 1 and 201 in create["upstream_statuses"]
    denied = next(record for record in outcomes if record["status"] == 401 and record["tenant"] == "acme")
    assert denied["outcome"] == "denied" and denied["token_name"] is None and denied["upstream_calls"] == 0
    assert denied["route"] == "/tenants/{tenant}/apps/{app}/scim/v2{rest}"
    bad_json = next(record for record in outcomes if record["status"] == 400)
    assert bad_json["scim_type"] == "invalidSyntax"
    vendor_500 = next(record for record in outcomes if record["status"] == 502)
    assert vendor_500["outcome"] == "vendor_error" and 500 in vendor_500["upstream_statuses"]
    vendor_429 = next(record for record in outcomes if record["status"] == 429)
    assert vendor_429["outcome"] == "throttled" and 429 in vendor_429["upstream_statuses"]
    assert next(record for record in outcomes if record["status"] == 501)["outcome"] == "unsupported"
    status_record = next(record for record in outcomes if record["route"] == "/status")
    assert status_record["token_name"] == "demo-operator" and status_record["operation"] == "status"


async def test_inbound_throttling_429_is_audited(tmp_path: Path) -> None:
    """A tenant over its inbound limit gets 429 (issue 4's throttle); each refused call has its record."""
    audit_file = tmp_path / "audit.jsonl"
    limits = {"rate": 0.01, "burst": 1, "max_wait": 0}
    async with demo_gateway({"audit": {"file": str(audit_file)}}, limits) as demo, scim_client() as client:
        statuses = [(await client.get(demo.scim_url("acme", "invicti") + "/Users")).status_code for _ in range(4)]
    assert statuses[0] == 200 and statuses[1:] == [429, 429, 429]
    records = read_records(audit_file)
    assert [record["status"] for record in records] == statuses
    assert [record["outcome"] for record in records[1:]] == ["throttled"] * 3
    assert all(record["upstream_calls"] == 0 for record in records[1:])


async def test_target_user_name_hashed_or_omitted(tmp_path: Path) -> None:
    for mode in ("hashed", "omitted"):
        audit_file = tmp_path / f"{mode}.jsonl"
        settings = {"audit": {"file": str(audit_file), "user_name": mode}}
        async with demo_gateway(settings) as demo, scim_client() as client:
            body = orjson.dumps(new_user(f"grace-{mode}@acme.test"))
            url = demo.scim_url("acme", "spekit") + "/Users"
            assert (await client.post(url, content=body, headers=SCIM_JSON)).status_code == 201
        text = audit_file.read_text()
        assert f"grace-{mode}@acme.test" not in text
        (record,) = read_records(audit_file)
        if mode == "hashed":
            assert record["target_user"] == "sha256:" + hashlib.sha256(f"grace-{mode}@acme.test".encode()).hexdigest()
        else:
            assert record["target_user"] is None


async def test_unwritable_audit_sink_never_breaks_the_request() -> None:
    """/dev/full fails every write (ENOSPC): requests still succeed and the drop is counted in metrics."""
    async with demo_gateway({"audit": {"file": "/dev/full"}}) as demo, scim_client() as client:
        for _ in range(3):
            assert (await client.get(demo.scim_url("acme", "invicti") + "/Users")).status_code == 200
        for _ in range(200):  # the writer thread needs a moment; bounded
            metrics = (await client.get(demo.metrics_url)).text
            if "scim_gateway_audit_records_dropped 0.0" not in metrics:
                break
    dropped = next(line for line in metrics.splitlines() if line.startswith("scim_gateway_audit_records_dropped "))
    assert float(dropped.split()[1]) >= 1


async def test_request_id_generated_when_missing_or_unsafe(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.jsonl"
    async with demo_gateway({"audit": {"file": str(audit_file)}}) as demo, scim_client() as client:
        url = demo.scim_url("acme", "invicti") + "/ServiceProviderConfig"
        plain = await client.get(url)
        unsafe = await client.get(url, headers={"X-Request-ID": 'x" {injected} ' + "a" * 200})
    ids = [plain.headers["X-Request-ID"], unsafe.headers["X-Request-ID"]]
    assert all(len(value) == 32 and value.isalnum() for value in ids) and ids[0] != ids[1]
    assert [record["request_id"] for record in read_records(audit_file)] == ids


async def test_a_caller_that_gives_up_still_gets_exactly_one_record(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.jsonl"
    async with demo_gateway({"audit": {"file": str(audit_file)}}) as demo, scim_client() as client:
        sim = demo.simulator_url("invicti", "acme")
        await client.post(f"{sim}/_sim/faults", json={"latency": 1.0, "method": "GET", "times": 1})
        try:
            await client.get(demo.scim_url("acme", "invicti") + "/Users", headers={"X-Request-ID": "gave-up-1"},
                             timeout=0.2)  # fmt: skip
            raise AssertionError("the slow vendor call should have outlived the client's patience")
        except httpx.TimeoutException:
            pass
        for _ in range(50):  # bounded: the gateway finishes (or cancels) the call once the vendor answers
            if "gave-up-1" in audit_file.read_text():
                break
            await asyncio.sleep(0.1)
    records = [record for record in read_records(audit_file) if record["request_id"] == "gave-up-1"]
    assert len(records) == 1, records
    assert records[0]["status"] in (200, 499)


async def test_a_trusted_proxy_names_the_client_and_scheme(tmp_path: Path) -> None:
    """Behind a proxy on a trusted address (loopback by default), X-Forwarded-* name the caller and scheme."""
    audit_file = tmp_path / "audit.jsonl"
    async with demo_gateway({"audit": {"file": str(audit_file)}}) as demo, scim_client() as client:
        forwarded = {"X-Forwarded-For": "198.51.100.9, 127.0.0.1", "X-Forwarded-Proto": "https"}
        answer = await client.get(demo.scim_url("acme", "invicti") + "/ServiceProviderConfig", headers=forwarded)
        direct = await client.get(demo.scim_url("acme", "invicti") + "/ServiceProviderConfig")
    assert answer.status_code == 200 and direct.status_code == 200
    assert answer.json()["meta"]["location"].startswith("https://127.0.0.1:")
    assert direct.json()["meta"]["location"].startswith("http://127.0.0.1:")
    first, second = read_records(audit_file)
    assert first["client_ip"] == "198.51.100.9" and second["client_ip"] == "127.0.0.1"
