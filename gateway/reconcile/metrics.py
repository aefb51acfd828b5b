"""Reconciliation on /metrics: the accounts of each app by state as its last run found them, and new findings.

`scim_gateway_accounts{tenant,app,state}` is read at scrape time from the last finished run each replica
holds (refreshed from the database, so every replica exports the same values: aggregate with `max`);
`state` is `orphan`, `drift`, `missing`, `reactivated`, or `total` (accounts read at the vendor).
`scim_gateway_reconcile_new_findings_total{tenant,app,state}` counts findings first seen, on the
replica that ran (aggregate with `sum`): the alert on new orphans reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.directory.findings import FindingState, Run

STATES = (*(state.value for state in FindingState), "total")


class ReconcileMetrics(Collector):
    """Registers both families on `registry`; `last` gives each (tenant, app)'s last finished run."""

    def __init__(self, registry: CollectorRegistry, last: Callable[[], Mapping[tuple[str, str], Run]]) -> None:
        self._last = last
        self.new = Counter(
            "scim_gateway_reconcile_new_findings",
            "Reconciliation findings seen for the first time",
            ["tenant", "app", "state"],
            registry=registry,
        )
        registry.register(self)

    def prepare(self, apps: Iterable[tuple[str, str]]) -> None:
        """Export each app's new-findings counters from 0: a series born at its first increment hides that
        increment from increase(), and so from the alert."""
        for tenant, app in apps:
            for state in FindingState:
                self.new.labels(tenant, app, state.value)

    def count_new(self, tenant: str, app: str, new: Mapping[FindingState, int]) -> None:
        for state, count in new.items():
            if count:
                self.new.labels(tenant, app, state.value).inc(count)

    def collect(self) -> Iterable[Any]:
        accounts = GaugeMetricFamily(
            "scim_gateway_accounts",
            "Accounts at the vendor by reconciliation state, as the app's last run found them",
            labels=["tenant", "app", "state"],
        )
        for (tenant, app), run in sorted(self._last().items()):
            for state in FindingState:
                accounts.add_metric([tenant, app, state.value], run.counts.get(state, 0))
            accounts.add_metric([tenant, app, "total"], run.accounts)
        yield accounts
