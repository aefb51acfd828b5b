"""The lock-free request families expose exactly what prometheus_client's own Counter and Histogram would."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest

from gateway.observability.metrics import LATENCY_BUCKETS
from gateway.observability.traffic import CounterFamily, FamiliesCollector, GaugeValue, HistogramFamily


def test_exposition_matches_prometheus_client_for_the_same_observations() -> None:
    disable_created_metrics()
    reference, ours = CollectorRegistry(), CollectorRegistry()
    counter = Counter("x_requests", "Requests", ["tenant", "status_class"], registry=reference)
    histogram = Histogram("x_seconds", "Latency", ["tenant"], buckets=LATENCY_BUCKETS, registry=reference)
    our_counter = CounterFamily("x_requests", "Requests", ["tenant", "status_class"])
    our_histogram = HistogramFamily("x_seconds", "Latency", ["tenant"], LATENCY_BUCKETS)
    ours.register(FamiliesCollector(our_counter, our_histogram))
    rng = random.Random(7)
    # Values on bucket edges too: `le` is inclusive in both.
    values = [rng.choice([*LATENCY_BUCKETS, 0.0, 100.0]) for _ in range(200)] + [rng.random() for _ in range(200)]
    for value in values:
        tenant, klass = rng.choice(["acme", "globex"]), rng.choice(["2xx", "4xx"])
        counter.labels(tenant, klass).inc()
        our_counter.inc((tenant, klass))
        histogram.labels(tenant).observe(value)
        our_histogram.series((tenant,)).observe(value)
    assert generate_latest(ours) == generate_latest(reference)


def test_gauge_value_is_what_the_caller_set() -> None:
    registry = CollectorRegistry()
    gauge = GaugeValue("x_in_flight", "In flight")
    registry.register(FamiliesCollector(gauge))
    gauge.value += 3
    gauge.value -= 1
    assert b"x_in_flight 2.0" in generate_latest(registry)
