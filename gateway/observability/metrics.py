"""Prometheus metrics, prefixed `scim_gateway_`, on a registry owned by the running app.

Labels are bounded by construction: tenant and app come from the config (an
unknown name in a URL is counted as `unknown`), operations and status classes
from fixed sets. Never a user id, a userName or a token. The per-request
series are lock-free (traffic.py): a request costs a few dict lookups and
integer increments. Values that
live on other objects (OAuth refreshes, app health, circuit state) are read at
scrape time by a collector, costing the hot path nothing.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Info,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.observability.traffic import CounterFamily, FamiliesCollector, GaugeValue, HistogramFamily

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: Directory operations are one indexed statement or transaction: finer at the fast end.
DIRECTORY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNKNOWN = "unknown"
#: Circuit states as exported; anything else a breaker reports is exported as `unknown`.
CIRCUIT_STATES = ("closed", "half_open", "open")


_STATUS_CLASSES = {status: f"{status // 100}xx" for status in range(100, 600)}


def status_class(status: int) -> str:
    return _STATUS_CLASSES.get(status, "error")


class Metrics:
    """Every metric of one gateway process."""

    def __init__(self, version: str) -> None:
        # `*_created` series would double every counter's cardinality for a value no dashboard uses.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client ships it untyped
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # Changed on every request: lock-free families (traffic.py), exported like prometheus_client's own.
        self.requests = CounterFamily(
            "scim_gateway_requests", "Inbound SCIM requests", ["tenant", "app", "operation", "status_class"]
        )
        self.request_seconds = HistogramFamily(
            "scim_gateway_request_duration_seconds",
            "Inbound SCIM request latency",
            ["tenant", "app", "operation"],
            LATENCY_BUCKETS,
        )
        self.upstream = CounterFamily(
            "scim_gateway_upstream_requests",
            "Requests sent to vendors",
            ["tenant", "app", "vendor", "method", "status_class"],
        )
        self.upstream_seconds = HistogramFamily(
            "scim_gateway_upstream_request_duration_seconds",
            "Vendor request latency",
            ["tenant", "app", "vendor", "method"],
            LATENCY_BUCKETS,
        )
        self.in_flight = GaugeValue("scim_gateway_in_flight_requests", "Inbound requests being served")
        # Labelled by operation (a repository method: get, by_user_name, record_intent, confirm, ..., or the
        # readiness `check`) and error class (gateway/directory/errors.py error_label): never an id or a name.
        self.directory_seconds = HistogramFamily(
            "scim_gateway_directory_operation_duration_seconds",
            "Directory operation latency, failed ones included",
            ["operation"],
            DIRECTORY_BUCKETS,
        )
        self.directory_errors = CounterFamily(
            "scim_gateway_directory_operation_errors",
            "Directory operations that raised, by error class (unavailable: the database failed)",
            ["operation", "error"],
        )
        r.register(
            FamiliesCollector(
                self.requests,
                self.request_seconds,
                self.upstream,
                self.upstream_seconds,
                self.in_flight,
                self.directory_seconds,
                self.directory_errors,
            )
        )
        self.throttled = Counter(
            "scim_gateway_throttled_requests",
            "Requests delayed past their budget or refused",
            ["tenant", "where"],
            registry=r,
        )
        self.retries = Counter(
            "scim_gateway_upstream_retries",
            "Vendor requests resent after a retryable failure",
            ["tenant", "app", "vendor", "reason"],
            registry=r,
        )
        self.oversized = Counter(
            "scim_gateway_upstream_oversized_responses",
            "Vendor answers refused for exceeding max_response_bytes",
            ["tenant", "app", "vendor"],
            registry=r,
        )
        self.throttle_fallbacks = Counter(
            "scim_gateway_throttle_fallbacks",
            "Limit decisions served locally because Redis failed or was slow",
            ["reason"],
            registry=r,
        )
        self.audit_dropped = Gauge(
            "scim_gateway_audit_records_dropped", "Audit records that could not be written", registry=r
        )
        Info("scim_gateway_build", "Build information", registry=r).info(
            {"version": version, "python": platform.python_version()}
        )
        # The standard process_* series (CPU, memory, open fds), read from /proc at scrape time.
        ProcessCollector(registry=r)
        self._children: dict[tuple[Any, ...], Any] = {}

    def observe_request(self, tenant: str, app: str, operation: str, status: int, seconds: float) -> None:
        self.requests.inc((tenant, app, operation, status_class(status)))
        self.request_seconds.series((tenant, app, operation)).observe(seconds)

    def observe_upstream(self, tenant: str, app: str, vendor: str, method: str, status: int, seconds: float) -> None:
        self.upstream.inc((tenant, app, vendor, method, status_class(status)))
        self.upstream_seconds.series((tenant, app, vendor, method)).observe(seconds)

    def observe_directory(self, operation: str, seconds: float, error: str | None) -> None:
        """One directory operation (the directory's `observe` hook); `error` is a bounded label or None."""
        self.directory_seconds.series((operation,)).observe(seconds)
        if error is not None:
            self.directory_errors.inc((operation, error))

    def count_throttled(self, tenant: str, where: str) -> None:
        """One request delayed past its budget or refused; `where` is `inbound` or `outbound`."""
        key = ("throttled", tenant, where)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.throttled.labels(tenant, where)
        child.inc()

    def count_throttle_fallback(self, reason: str) -> None:
        """One limit decision made on this replica's share because Redis failed; `reason`: error or timeout."""
        key = ("fallback", reason)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.throttle_fallbacks.labels(reason)
        child.inc()

    def count_retry(self, tenant: str, app: str, vendor: str, reason: str) -> None:
        """One vendor request resent; `reason` is a fixed word such as `429`, `5xx` or `timeout`."""
        key = ("retry", tenant, app, vendor, reason)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.retries.labels(tenant, app, vendor, reason)
        child.inc()

    def count_oversized(self, tenant: str, app: str, vendor: str) -> None:
        """One vendor answer refused because it was larger than the app's max_response_bytes."""
        self.oversized.labels(tenant, app, vendor).inc()

    def add_collector(self, collector: Collector) -> None:
        self.registry.register(collector)


def circuit_state(app: Any) -> str | None:
    """The app's circuit state as one of CIRCUIT_STATES (or `unknown`); None when it has no breaker.

    Read defensively: the breaker is any object with a `state` (a string or an enum).
    """
    breaker = getattr(app, "breaker", None)
    if breaker is None:
        return None
    state = getattr(breaker, "state", None)
    name = str(getattr(state, "value", state)).lower().replace("-", "_").replace(" ", "_")
    return name if name in CIRCUIT_STATES else UNKNOWN


class AppStateCollector(Collector):
    """Reads per-app state at scrape time: health, circuit state, token refreshes."""

    def __init__(self, apps: Callable[[], Iterable[Any]]) -> None:
        self._apps = apps

    def collect(self) -> Iterable[Any]:
        up = GaugeMetricFamily(
            "scim_gateway_app_up",
            "Last connectivity check succeeded (1) or not (0)",
            labels=["tenant", "app", "vendor"],
        )
        refreshes = CounterMetricFamily(
            "scim_gateway_token_refreshes", "OAuth token requests", labels=["tenant", "app", "outcome"]
        )
        expiry = GaugeMetricFamily(
            "scim_gateway_token_expiry_seconds", "Seconds until the cached token expires", labels=["tenant", "app"]
        )
        circuit = GaugeMetricFamily(
            "scim_gateway_circuit_state",
            "1 for the circuit's current state, else 0",
            labels=["tenant", "app", "vendor", "state"],
        )
        circuit_open = GaugeMetricFamily(
            "scim_gateway_circuit_open", "1 while the app's circuit is open", labels=["tenant", "app", "vendor"]
        )
        for app in self._apps():
            labels = [app.tenant, app.name, app.vendor]
            if app.health.checked:
                up.add_metric(labels, 1.0 if app.health.ok else 0.0)
            state = circuit_state(app)
            if state is not None:
                for known in (*CIRCUIT_STATES, UNKNOWN):
                    if known != UNKNOWN or state == UNKNOWN:
                        circuit.add_metric([*labels, known], 1.0 if known == state else 0.0)
                circuit_open.add_metric(labels, 1.0 if state == "open" else 0.0)
            for outcome, count in getattr(app.auth, "refresh_outcomes", {}).items():
                refreshes.add_metric([app.tenant, app.name, outcome], count)
            remaining = getattr(app.auth, "seconds_to_expiry", lambda: None)()
            if remaining is not None:
                expiry.add_metric([app.tenant, app.name], remaining)
        yield from (up, refreshes, expiry, circuit, circuit_open)
