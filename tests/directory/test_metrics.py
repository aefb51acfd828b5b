"""Directory metrics: every repository operation is timed and its errors counted, on both engines (issue 17 item 7)."""

from __future__ import annotations

import inspect

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.directory.errors import StaleVersion
from gateway.directory.records import Origin, State
from gateway.directory.resources import Resources
from gateway.directory.store import build_directory, prepare
from gateway.observability.metrics import Metrics
from tests.directory.conftest import directory_config
from tests.processes import free_port

DURATION = "scim_gateway_directory_operation_duration_seconds"
ERRORS = "scim_gateway_directory_operation_errors"


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, as /metrics serves it: (name, sorted labels) -> value."""
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def count(found: dict, operation: str) -> float:
    return found.get((f"{DURATION}_count", (("operation", operation),)), 0.0)


def errors(found: dict, operation: str, error: str) -> float:
    return found.get((f"{ERRORS}_total", (("error", error), ("operation", operation))), 0.0)


async def test_operations_move_the_latency_histogram_and_refusals_the_error_counter(database_url, keys):
    metrics = Metrics("test")
    config = directory_config(database_url, [keys["old"]], keys["index"])
    directory = build_directory(config, observe=metrics.observe_directory)
    try:
        await prepare(directory, config)
        orca = directory.resources("acme", "orca")
        entry = await orca.insert("User", State("alice@example.com"), vendor_id="v-1", origin=Origin.GATEWAY)
        assert await orca.get("User", entry.id) == entry
        assert (await orca.by_user_name("ALICE@example.com")).id == entry.id
        assert await orca.by_vendor_id("User", "v-404") is None
        with pytest.raises(StaleVersion):
            await orca.update("User", entry.id, State("alice@example.com"), expected_version=7)
        await directory.check()
    finally:
        await directory.close()
    found = samples(metrics)
    for operation in ("insert", "get", "by_user_name", "by_vendor_id", "update", "check"):
        assert count(found, operation) == 1, operation
    assert errors(found, "update", "stale_version") == 1
    assert not any(name == f"{ERRORS}_total" and dict(labels)["operation"] != "update" for name, labels in found)
    # Only operation and error labels: no tenant, app, id or userName reaches a series.
    text = generate_latest(metrics.registry).decode()
    assert "alice" not in text.lower() and "v-1" not in text and str(entry.id) not in text
    assert found[(f"{DURATION}_sum", (("operation", "get"),))] > 0


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # see test_unavailable.py
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_an_unreachable_database_counts_unavailable_errors(backend, keys, tmp_path):
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'directory.db'}"
        if backend == "sqlite"
        else f"postgresql+asyncpg://gateway:hunter2@127.0.0.1:{free_port()}/directory"
    )
    metrics = Metrics("test")
    directory = build_directory(
        directory_config(url, [keys["old"]], keys["index"], pool_timeout=1), observe=metrics.observe_directory
    )
    orca = directory.resources("acme", "orca")
    try:
        for call in (orca.by_user_name("alice"), orca.by_external_id("User", "e"), directory.check()):
            with pytest.raises(Exception, match="the directory database is unavailable"):
                await call
    finally:
        await directory.close()
    found = samples(metrics)
    for operation in ("by_user_name", "by_external_id", "check"):
        assert errors(found, operation, "unavailable") == 1, operation
        assert count(found, operation) == 1, operation
    assert "hunter2" not in generate_latest(metrics.registry).decode()


def test_every_public_operation_of_the_repository_is_observed():
    """A method added to Resources without @operation (gateway/directory/observed.py) would escape the metrics
    and the start-up gate."""
    public = [name for name, member in inspect.getmembers(Resources, inspect.iscoroutinefunction) if name[0] != "_"]
    assert {"get", "by_user_name", "record_intent", "confirm"} <= set(public)
    assert [name for name in public if not hasattr(getattr(Resources, name), "__wrapped__")] == []
