"""Prometheus metrics, prefixed `scim_gateway_`, on a registry owned by the running app.

Labels are bounded by construction: tenant and app come from the config (an
unknown name in a URL is counted as `unknown`), operations and status classes
from fixed sets. Never a user id, a userName or a token. Label children are
cached, so a request costs a few dict lookups and increments. Values that
live on other objects (OAuth refreshes, app health, circuit state) are read at
scrape time by a collector, costing the hot path nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
UNKNOWN = "unknown"


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "error"


class Metrics:
    """Every metric of one gateway process."""

    def __init__(self, version: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "scim_gateway_requests", "Inbound SCIM requests", ["tenant", "app", "operation", "status_class"], registry=r
        )
        self.request_seconds = Histogram(
            "scim_gateway_request_duration_seconds",
            "Inbound SCIM request latency",
            ["tenant", "app", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream = Counter(
            "scim_gateway_upstream_requests",
            "Requests sent to vendors",
            ["tenant", "app", "vendor", "method", "status_class"],
            registry=r,
        )
        self.upstream_seconds = Histogram(
            "scim_gateway_upstream_request_duration_seconds",
            "Vendor request latency",
            ["tenant", "app", "vendor", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.throttled = Counter(
            "scim_gateway_throttled_requests", "Requests delayed past their budget or refused", ["tenant", "where"],
            registry=r,
        )
        self.retries = Counter(
            "scim_gateway_upstream_retries", "Vendor requests resent after a retryable failure",
            ["tenant", "app", "vendor", "reason"], registry=r,
        )
        self.in_flight = Gauge("scim_gateway_in_flight_requests", "Inbound requests being served", registry=r)
        self.audit_dropped = Gauge(
            "scim_gateway_audit_records_dropped", "Audit records that could not be written", registry=r
        )
        Info("scim_gateway_build", "Build information", registry=r).info({"version": version})
        self._children: dict[tuple[Any, ...], Any] = {}

    def observe_request(self, tenant: str, app: str, operation: str, status: int, seconds: float) -> None:
        key = ("in", tenant, app, operation, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(tenant, app, operation, status_class(status)),
                self.request_seconds.labels(tenant, app, operation),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_upstream(self, tenant: str, app: str, vendor: str, method: str, status: int, seconds: float) -> None:
        key = ("up", tenant, app, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.upstream.labels(tenant, app, vendor, method, status_class(status)),
                self.upstream_seconds.labels(tenant, app, vendor, method),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def add_collector(self, collector: Collector) -> None:
        self.registry.register(collector)


class AppStateCollector(Collector):
    """Reads per-app state at scrape time: health, circuit state, token refreshes."""

    def __init__(self, apps: Callable[[], Iterable[Any]]) -> None:
        self._apps = apps

    def collect(self) -> Iterable[Any]:
        up = GaugeMetricFamily("scim_gateway_app_up", "Last connectivity check succeeded (1) or not (0)",
                               labels=["tenant", "app", "vendor"])
        refreshes = CounterMetricFamily("scim_gateway_token_refreshes", "OAuth token requests",
                                        labels=["tenant", "app", "outcome"])
        expiry = GaugeMetricFamily("scim_gateway_token_expiry_seconds", "Seconds until the cached token expires",
                                   labels=["tenant", "app"])
        for app in self._apps():
            if app.health.checked:
                up.add_metric([app.tenant, app.name, app.vendor], 1.0 if app.health.ok else 0.0)
            for outcome, count in getattr(app.auth, "refresh_outcomes", {}).items():
                refreshes.add_metric([app.tenant, app.name, outcome], count)
            remaining = getattr(app.auth, "seconds_to_expiry", lambda: None)()
            if remaining is not None:
                expiry.add_metric([app.tenant, app.name], remaining)
        yield up
        yield refreshes
        yield expiry
