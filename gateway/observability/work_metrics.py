"""The work queue of manual apps in metrics, read at scrape time from the last backlog read
(gateway/backed/manual/tasks.py refreshes it every `directory.work_refresh_every` seconds):

    scim_gateway_work_items_open{tenant,app}                open and claimed items
    scim_gateway_work_item_oldest_age_seconds{tenant,app}   age of the oldest of them (0: none)
    scim_gateway_work_item_max_age_seconds{tenant,app}      the app's `work_item_max_age` (the alert's threshold)
    scim_gateway_work_notifications_total{tenant,app,outcome}  webhook deliveries: sent, retry, failed

Every manual app has a series, 0 while its queue is empty, so an alert can tell "empty" from "not scraped".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.backed.manual.service import WorkService


class WorkCollector(Collector):
    def __init__(
        self, service: WorkService, max_ages: Mapping[tuple[str, str], float], now: Callable[[], float] = time.time
    ) -> None:
        self._service = service
        self._max_ages = dict(sorted(max_ages.items()))
        self._now = now

    def collect(self) -> Iterable[Any]:
        labels = ["tenant", "app"]
        opened = GaugeMetricFamily("scim_gateway_work_items_open", "Open work items of a manual app", labels=labels)
        oldest = GaugeMetricFamily(
            "scim_gateway_work_item_oldest_age_seconds", "Age of the oldest open work item (0: none)", labels=labels
        )
        limit = GaugeMetricFamily(
            "scim_gateway_work_item_max_age_seconds", "Age past which an open work item is overdue", labels=labels
        )
        notifications = CounterMetricFamily(
            "scim_gateway_work_notifications",
            "Webhook deliveries of new work items by outcome",
            labels=[*labels, "outcome"],
        )
        now = self._now()
        for key, max_age in self._max_ages.items():
            backlog = self._service.backlog.get(key)
            opened.add_metric(list(key), backlog.open if backlog else 0)
            oldest.add_metric(list(key), max(0.0, now - backlog.oldest.timestamp()) if backlog else 0.0)
            limit.add_metric(list(key), max_age)
        for (tenant, app, outcome), count in sorted(self._service.notifications.items()):
            notifications.add_metric([tenant, app, outcome], count)
        yield from (opened, oldest, limit, notifications)
