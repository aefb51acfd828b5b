"""Per-request counters and histograms without locks, exported as ordinary Prometheus families.

prometheus_client's Counter and Histogram take a threading lock per change
and walk the bucket list in Python: four locked updates per request and side
cost more than everything else the metrics do. Every update here happens on
the event loop's thread (requests, vendor calls and scrapes all run there),
so a series is a few plain integers, a float sum and one C `bisect`. Values
are turned into cumulative Prometheus samples only when scraped; the
exposition is the same as prometheus_client's (`_total`, `_bucket{le}`,
`_count`, `_sum`; no `_created`).

Contract: `inc`/`observe` are called from one thread only (the event loop);
`collect` from the same thread (the /metrics endpoints are served by it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

Labels = tuple[str, ...]


class CounterFamily:
    """A labelled counter: `inc(labels)` adds one to that series."""

    def __init__(self, name: str, documentation: str, label_names: Sequence[str]) -> None:
        self.name, self.documentation, self.label_names = name, documentation, list(label_names)
        self.values: dict[Labels, int] = {}

    def inc(self, labels: Labels) -> None:
        values = self.values
        values[labels] = values.get(labels, 0) + 1

    def collect(self) -> list[CounterMetricFamily]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.label_names)
        for labels, value in self.values.items():
            family.add_metric(list(labels), value)
        return [family]


class Histogram:
    """One histogram series: observation counts per bucket (not cumulative) and their sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: the first bound >= value, i.e. the bucket `le` that value falls in.
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


class HistogramFamily:
    """A labelled histogram; `series(labels)` is held by the caller so an observation is one call."""

    def __init__(self, name: str, documentation: str, label_names: Sequence[str], buckets: Sequence[float]) -> None:
        self.name, self.documentation, self.label_names = name, documentation, list(label_names)
        self.bounds = tuple(sorted(buckets))
        # prometheus_client's own float spelling, so our exposition matches its; the helper is untyped.
        self._edges = [floatToGoString(bound) for bound in self.bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
        self._series: dict[Labels, Histogram] = {}

    def series(self, labels: Labels) -> Histogram:
        found = self._series.get(labels)
        if found is None:
            found = self._series[labels] = Histogram(self.bounds)
        return found

    def collect(self) -> list[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.label_names)
        for labels, series in self._series.items():
            cumulative, buckets = 0, []
            for edge, count in zip(self._edges, series.counts, strict=True):
                cumulative += count
                buckets.append((edge, cumulative))
            family.add_metric(list(labels), buckets, series.sum)
        return [family]


class GaugeValue:
    """An unlabelled gauge the caller changes directly (`gauge.value += 1`)."""

    def __init__(self, name: str, documentation: str) -> None:
        self.name, self.documentation = name, documentation
        self.value = 0

    def collect(self) -> list[GaugeMetricFamily]:
        return [GaugeMetricFamily(self.name, self.documentation, value=self.value)]


Family = CounterFamily | HistogramFamily | GaugeValue


class FamiliesCollector(Collector):
    """Exposes families (anything with `collect()`) through a prometheus_client registry."""

    def __init__(self, *families: Family) -> None:
        self._families = families

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily | GaugeMetricFamily]:
        for family in self._families:
            yield from family.collect()
