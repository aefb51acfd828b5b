"""An open-loop HTTP/1.1 load generator: requests at a fixed rate, whatever the answers' speed.

Each of `connections` keep-alive connections sends on its own schedule
(rate / connections per second, evenly offset); when an answer comes late
the next request goes as soon as it is in, and its latency still counts
from when it was due, so a stall shows in the percentiles instead of
quietly lowering the rate (no coordinated omission). Prints one
`BENCH_RESULT {json}` line: requests, p50/p99/max in µs, counts per status,
and `missed`: requests never sent because their connection fell more than a
second behind (a stalled server cannot stretch the run).
Run as `python -m benchmarks.openload URL REQUEST.json --rate 200 --connections 8 --duration 8`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httptools
import uvloop

from benchmarks.processes import require_loopback
from benchmarks.pyload import RESULT_MARK, _Answer, _percentile, build_request


async def _connection(
    host: str,
    port: int,
    request: bytes,
    first: float,
    period: float,
    deadline: float,
    latencies: list[float],
    statuses: dict[int, int],
    missed: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    answer = _Answer()
    parser = httptools.HttpResponseParser(answer)
    due = first
    try:
        # Requests fallen more than a second behind are never sent: a stalled server cannot stretch the run.
        while due < deadline and time.perf_counter() < deadline + 1.0:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            answer.complete = False
            writer.write(request)
            while not answer.complete:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionResetError("server closed the connection")
                parser.feed_data(data)
            latencies.append(time.perf_counter() - due)
            status = parser.get_status_code()
            statuses[status] = statuses.get(status, 0) + 1
            due += period
        missed[0] += max(0, math.ceil((deadline - due) / period))
    finally:
        writer.close()


async def drive(url: str, spec: dict[str, object], rate: float, connections: int, duration: float) -> dict[str, object]:
    """Send `rate` requests/s over `connections` for `duration` seconds; returns the BENCH_RESULT fields."""
    parts = urlsplit(url)
    host, port = require_loopback(parts.hostname or ""), parts.port or 80
    request = build_request(host, port, spec)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    missed = [0]
    period = connections / rate
    started = time.perf_counter() + 0.05
    deadline = started + duration
    loops = [
        _connection(
            host, port, request, started + index * period / connections, period, deadline, latencies, statuses, missed
        )
        for index in range(connections)
    ]
    await asyncio.wait_for(asyncio.gather(*loops), duration + 30)
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "seconds": duration,
        "p50_us": int(_percentile(ordered, 50) * 1e6),
        "p99_us": int(_percentile(ordered, 99) * 1e6),
        "max_us": int(ordered[-1] * 1e6) if ordered else 0,
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "missed": missed[0],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="open-loop HTTP/1.1 load generator (fixed request rate)")
    parser.add_argument("url", help="server root, e.g. http://127.0.0.1:8080")
    parser.add_argument("request", help="JSON file with method, path, headers, body")
    parser.add_argument("--rate", type=float, required=True, help="requests per second, all connections together")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=8.0)
    args = parser.parse_args(argv)
    spec = json.loads(Path(args.request).read_text())
    result = uvloop.run(drive(args.url, spec, args.rate, args.connections, args.duration))
    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
