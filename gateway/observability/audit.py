"""The audit trail: exactly one JSON line (`"event": "audit"`) per call, written after the outcome is known.

Records are rendered on the loop with orjson (a few microseconds; structlog's
processor chain cost about twice as much for nothing an audit line needs) and
handed to a background thread, so a slow stdout or disk never blocks the
event loop, and a failure to write is counted and never breaks the request.
Records name the caller's token by its configured name, never the token; the
target userName is kept in clear, hashed (SHA-256, so records about one user
can still be correlated) or omitted, per configuration. The file, when
configured, is opened at start-up (a path the process cannot write is a
start-up error, not silent loss) and the queue is bounded: if the sink
stalls, records beyond MAX_QUEUED are dropped and counted
(`scim_gateway_audit_records_dropped`) rather than growing memory without limit.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import sys
import threading
import time
from datetime import UTC, datetime
from typing import IO, Any, Literal

import orjson

UserNameMode = Literal["clear", "hashed", "omitted"]
MAX_QUEUED = 100_000
#: The writer drains the queue at most this often (seconds), and at most MAX_BATCH records per write.
BATCH_SECONDS = 0.02
MAX_BATCH = 1000
_STOP: Any = object()


class AuditLog:
    """Writes audit records to stdout (default) or an append-only file, off the event loop."""

    def __init__(self, path: str | None = None, user_name: UserNameMode = "clear") -> None:
        self.path = path
        self.user_name_mode = user_name
        self.dropped = 0
        self._lines: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        # Opened here, in the lifespan: an unwritable path fails start-up loudly.
        self._stream: IO[Any] = open(path, "ab") if path else sys.stdout  # noqa: SIM115
        self._thread = threading.Thread(target=self._write_forever, name="audit-writer", daemon=True)
        self._thread.start()

    def record(self, fields: dict[str, Any]) -> None:
        """Queue one record (`fields` after the event name and timestamp, which it must not hold); never raises.

        A record that cannot be rendered or queued is counted as dropped.
        """
        try:
            if self._lines.qsize() >= MAX_QUEUED:
                raise OverflowError("the audit sink is stalled")
            line = orjson.dumps({"event": "audit", "timestamp": _timestamp(time.time()), **fields})
            self._lines.put(line)
        except Exception:
            self.dropped += 1

    def target(self, user_name: str | None) -> str | None:
        """The userName as this log is configured to keep it."""
        if user_name is None or self.user_name_mode == "omitted":
            return None
        if self.user_name_mode == "hashed":
            return "sha256:" + hashlib.sha256(user_name.lower().encode()).hexdigest()
        return user_name

    def close(self, timeout: float = 5.0) -> None:
        """Flush every queued record, then stop the writer."""
        self._lines.put(_STOP)
        self._thread.join(timeout)

    def _write_forever(self) -> None:
        stream = self._stream
        binary = self.path is not None  # stdout is shared with the logs, so it is written as text lines
        try:
            stopping = False
            while not stopping:
                batch = [self._lines.get()]
                # Let records gather before draining: under load the loop then queues them without waking
                # this thread each time (a wake-up per record cost the loop a GIL hand-over per request).
                time.sleep(BATCH_SECONDS)
                with contextlib.suppress(queue.Empty):
                    while len(batch) < MAX_BATCH:
                        batch.append(self._lines.get_nowait())
                if _STOP in batch:
                    stopping = True
                    batch = batch[: batch.index(_STOP)]
                if not batch:
                    continue
                try:
                    chunk = b"\n".join(batch) + b"\n"
                    stream.write(chunk if binary else chunk.decode())
                    stream.flush()
                except Exception:
                    self.dropped += len(batch)
        finally:
            with contextlib.suppress(Exception):  # a full disk at shutdown is counted above, not raised
                stream.flush()
                if self.path:
                    stream.close()


def _timestamp(now: float) -> str:
    """UTC, RFC 3339 with microseconds and `Z`: fixed width, so records sort as text."""
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
