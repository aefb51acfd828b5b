"""Audit lines (event name and a fixed-width UTC timestamp first, then the fields) and generated request ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import orjson

from gateway.inbound.recording import new_request_id
from gateway.observability.audit import AuditLog

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_lines_lead_with_event_and_timestamp_then_the_fields_in_order(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(str(path))
    before = datetime.now(UTC)
    audit.record({"request_id": "abc", "status": 200, "upstream_statuses": [200, 503], "target_user": None})
    audit.record({})  # nothing but the head is still one valid object
    audit.close()
    after = datetime.now(UTC)
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2
    first, empty = (orjson.loads(line) for line in lines)
    assert list(first) == ["event", "timestamp", "request_id", "status", "upstream_statuses", "target_user"]
    assert first["event"] == "audit" and first["upstream_statuses"] == [200, 503] and first["target_user"] is None
    assert list(empty) == ["event", "timestamp"]
    for record in (first, empty):
        assert _TIMESTAMP.match(record["timestamp"]), record["timestamp"]
        stamped = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
        assert before.replace(microsecond=0) <= stamped <= after


def test_generated_request_ids_are_distinct_128_bit_hex() -> None:
    ids = [new_request_id() for _ in range(1000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)
    assert len({request_id[0] for request_id in ids}) == 16  # the leading digit varies too: no fixed zero padding
