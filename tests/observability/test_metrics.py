"""Prometheus metrics after demo traffic: the series, their counts, bounded labels, a separate port (issue 5)."""

from __future__ import annotations

import enum
import time
from types import SimpleNamespace

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import Response

from gateway.config import ObservabilityConfig
from gateway.demo import DEMO_TOKENS
from gateway.inbound.recording import Call
from gateway.observability.audit import AuditLog
from gateway.observability.metrics import Metrics, circuit_state
from tests.observability.helpers import OPERATOR_TOKEN, demo_gateway, scim_client
from tests.processes import free_port

SCIM_JSON = {"Content-Type": "application/scim+json"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (sample, labels) in samples if sample == name]


async def test_metrics_count_demo_traffic_with_bounded_labels() -> None:
    async with demo_gateway({"health_check_interval": 0.2}) as demo, scim_client() as acme:
        invicti = demo.scim_url("acme", "invicti")
        for _ in range(5):
            assert (await acme.get(f"{invicti}/Users")).status_code == 200
        async with scim_client("globex") as globex:
            for _ in range(2):
                config_url = demo.scim_url("globex", "spekit") + "/ServiceProviderConfig"
                assert (await globex.get(config_url)).status_code == 200
        user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "metric-leak@acme.test",
                "password": "Metric-Pw-1!"}  # fmt: skip
        assert (await acme.post(f"{invicti}/Users", content=orjson.dumps(user), headers=SCIM_JSON)).status_code == 201
        assert (await acme.get(f"{invicti}/Users", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await acme.get(demo.scim_url("evil-tenant-xyz", "evil-app-xyz") + "/Users")).status_code == 401
        assert (await acme.get(demo.scim_url("acme", "evil-app-xyz") + "/Users")).status_code == 404
        sim = demo.simulator_url("invicti", "acme")
        await acme.post(f"{sim}/_sim/faults", json={"status": 503, "method": "GET", "path": "/api/scim", "times": 1})
        assert (await acme.get(f"{invicti}/Users")).status_code == 200, "a single vendor 503 is retried"
        text = (await acme.get(demo.metrics_url)).text
    samples = parse(text)
    acme_list = {"tenant": "acme", "app": "invicti", "operation": "list"}
    assert value(samples, "scim_gateway_requests_total", **acme_list, status_class="2xx") == 6
    assert value(samples, "scim_gateway_request_duration_seconds_count", **acme_list) == 6
    assert value(samples, "scim_gateway_requests_total", tenant="acme", app="invicti", operation="create",
                 status_class="2xx") == 1  # fmt: skip
    assert value(samples, "scim_gateway_requests_total", tenant="globex", app="spekit", operation="config",
                 status_class="2xx") == 2  # fmt: skip
    assert (
        value(
            samples,
            "scim_gateway_requests_total",
            tenant="acme",
            app="unknown",
            operation="unknown",
            status_class="4xx",
        )
        == 2
    )  # fmt: skip  (wrong token, unknown app)
    assert (
        value(
            samples,
            "scim_gateway_requests_total",
            tenant="unknown",
            app="unknown",
            operation="unknown",
            status_class="4xx",
        )
        == 1
    )  # fmt: skip  (unknown tenant)
    upstream = {"tenant": "acme", "app": "invicti", "vendor": "invicti", "method": "GET"}
    assert value(samples, "scim_gateway_upstream_requests_total", **upstream, status_class="2xx") >= 6
    assert value(samples, "scim_gateway_upstream_requests_total", **upstream, status_class="5xx") == 1
    assert value(samples, "scim_gateway_upstream_request_duration_seconds_count", **upstream) >= 7
    assert sum(v for (name, _), v in samples.items() if name == "scim_gateway_upstream_retries_total") >= 1
    assert value(samples, "scim_gateway_in_flight_requests") == 0
    (build,) = series(samples, "scim_gateway_build_info")
    assert build["version"]
    apps = {(tenant, app) for tenant, config in demo.config.tenants.items() for app in config.apps}
    assert {(s["tenant"], s["app"]) for s in series(samples, "scim_gateway_app_up")} == apps
    for tenant, app in apps:
        labels = {"tenant": tenant, "app": app, "vendor": demo.config.tenants[tenant].apps[app].vendor}
        assert value(samples, "scim_gateway_app_up", **labels) == 1
        assert value(samples, "scim_gateway_circuit_state", **labels, state="closed") == 1
        assert value(samples, "scim_gateway_circuit_open", **labels) == 0
    if ("acme", "delinea") in apps:  # the OAuth2 app: its token refreshes are counted
        assert value(samples, "scim_gateway_token_refreshes_total", tenant="acme", app="delinea",
                     outcome="success") >= 1  # fmt: skip
    # Bounded labels: nothing from the URL or the body that is not in the config, no user, no token.
    for forbidden in ("evil-tenant-xyz", "evil-app-xyz", "metric-leak", "Metric-Pw", *DEMO_TOKENS.values(),
                      OPERATOR_TOKEN, "wrong"):  # fmt: skip
        assert forbidden not in text
    labelled = [dict(labels) for (_, labels) in samples]
    assert {labels["tenant"] for labels in labelled if "tenant" in labels} <= {*demo.config.tenants, "unknown"}
    assert {labels["app"] for labels in labelled if "app" in labels} <= {app for _, app in apps} | {"unknown"}


async def test_throttled_requests_are_counted() -> None:
    async with demo_gateway(tenant_limits={"rate": 0.01, "burst": 1, "max_wait": 0}) as demo, scim_client() as acme:
        statuses = [(await acme.get(demo.scim_url("acme", "invicti") + "/Users")).status_code for _ in range(3)]
        samples = parse((await acme.get(demo.metrics_url)).text)
    assert statuses == [200, 429, 429]
    assert value(samples, "scim_gateway_throttled_requests_total", tenant="acme", where="inbound") == 2


async def test_metrics_are_not_on_the_main_port_by_default() -> None:
    """The main port is the one given to IdPs (and published); /metrics is on a port of its own."""
    defaults = ObservabilityConfig()
    assert defaults.metrics_port == 9464 and not defaults.metrics_on_main_port
    port = free_port()
    async with demo_gateway({"metrics_port": port}) as demo, httpx.AsyncClient() as client:
        assert (await client.get(demo.gateway.url + "/metrics")).status_code == 404
        assert demo.metrics_url == f"http://127.0.0.1:{port}/metrics"
        separate = await client.get(demo.metrics_url)
        assert separate.status_code == 200 and "scim_gateway_build_info" in separate.text
        assert (await client.get(f"http://127.0.0.1:{port}/status")).status_code == 404, "only /metrics there"


async def test_metrics_on_the_main_port_when_asked() -> None:
    main_port_only = {"metrics_on_main_port": True, "metrics_port": None}
    async with demo_gateway(main_port_only) as demo, httpx.AsyncClient() as client:
        assert demo.app.state.metrics_url is None
        main = await client.get(demo.gateway.url + "/metrics")
        assert main.status_code == 200 and "scim_gateway_build_info" in main.text


def test_circuit_state_is_read_defensively() -> None:
    class State(enum.Enum):
        HALF_OPEN = "half-open"

    assert circuit_state(SimpleNamespace()) is None
    assert circuit_state(SimpleNamespace(breaker=SimpleNamespace(state="open"))) == "open"
    assert circuit_state(SimpleNamespace(breaker=SimpleNamespace(state=State.HALF_OPEN))) == "half_open"
    assert circuit_state(SimpleNamespace(breaker=SimpleNamespace(state="melted"))) == "unknown"
    assert circuit_state(SimpleNamespace(breaker=SimpleNamespace())) == "unknown"


def test_observe_request_overhead_is_small() -> None:
    """Per-request metric cost on the hot path (counter + histogram via cached children), in microseconds.

    The overhead tests measure this thread's CPU time (what the event loop pays), not wall time, which
    grows with whatever else runs on a shared machine.
    """
    metrics = Metrics("test")
    calls = 100_000
    started = time.thread_time()
    for index in range(calls):
        metrics.observe_request("acme", "invicti", "list", 200 + (index & 1), 0.012)
    per_call = (time.thread_time() - started) / calls * 1e6
    print(f"observe_request: {per_call:.2f} µs per call")
    assert per_call < 25, f"observe_request costs {per_call:.1f} µs per call"


def test_audit_record_overhead_is_small(tmp_path) -> None:
    """Per-request audit cost on the event loop (render + enqueue; the write happens on another thread)."""
    audit = AuditLog(str(tmp_path / "audit.jsonl"))
    calls = 20_000
    fields = {"request_id": "r" * 32, "tenant": "acme", "app": "invicti", "status": 200, "upstream_statuses": [200]}
    started = time.thread_time()
    for _ in range(calls):
        audit.record(fields)
    per_call = (time.thread_time() - started) / calls * 1e6
    audit.close()
    print(f"audit.record: {per_call:.2f} µs per call")
    assert audit.dropped == 0 and len((tmp_path / "audit.jsonl").read_text().splitlines()) == calls
    assert per_call < 100, f"audit.record costs {per_call:.1f} µs per call"


def test_whole_call_observability_overhead(tmp_path) -> None:
    """Everything observability adds to one request: Call.begin, metrics, audit record, X-Request-ID."""
    metrics, audit = Metrics("test"), AuditLog(str(tmp_path / "audit.jsonl"))
    scope = {"type": "http", "method": "GET", "path": "/tenants/acme/apps/invicti/scim/v2/Users", "query_string": b"",
             "headers": [(b"x-request-id", b"abc-123")], "client": ("127.0.0.1", 5555)}  # fmt: skip
    calls = 20_000
    started = time.thread_time()
    for _ in range(calls):
        call = Call.begin(Request(scope), route="/tenants/{tenant}/apps/{app}/scim/v2/Users")
        call.tenant, call.tenant_known, call.app, call.vendor = "acme", True, "invicti", "invicti"
        call.operation = "list"
        call.upstream.append(200)
        call.finish(Response(status_code=200), metrics, audit)
    per_call = (time.thread_time() - started) / calls * 1e6
    audit.close()
    print(f"Call.begin + finish (metrics + audit): {per_call:.2f} µs per request")
    assert per_call < 150, f"observability costs {per_call:.1f} µs per request"
