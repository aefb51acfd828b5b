"""A closed-loop HTTP/1.1 load generator in Python, used when wrk is not installed.

Each connection sends one keep-alive request (a path holding `{unique}` gets
a fresh value each time), waits for the whole
answer (parsed by httptools), records the latency and sends again, until the
deadline. Run as `python -m benchmarks.pyload URL REQUEST.json --connections
8 --duration 5`; it prints the same `BENCH_RESULT {json}` line as the wrk
script. It needs more CPU per request than wrk, so give it a core of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httptools
import uvloop

from benchmarks.processes import require_loopback
from benchmarks.scenarios import UNIQUE

RESULT_MARK = "BENCH_RESULT "


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    non_2xx: int = 0
    socket_errors: int = 0


class _Answer:
    """httptools callbacks: notes when one response is complete and its status."""

    def __init__(self) -> None:
        self.complete = False

    def on_message_complete(self) -> None:
        self.complete = True


def build_request(host: str, port: int, spec: dict[str, object]) -> bytes:
    """The raw request bytes for a spec of method, path, headers and body."""
    body = str(spec["body"]).encode() if spec.get("body") is not None else b""
    headers = {"Host": f"{host}:{port}", **dict(spec.get("headers") or {})}  # type: ignore[call-overload]
    if body:
        headers["Content-Length"] = str(len(body))
    lines = [f"{spec['method']} {spec['path']} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def request_maker(host: str, port: int, spec: dict[str, object]) -> Callable[[], bytes]:
    """A function returning the next request's bytes: always the same unless the path holds `{unique}`."""
    path = str(spec["path"])
    if UNIQUE not in path:
        fixed = build_request(host, port, spec)
        return lambda: fixed
    tag, counter = secrets.token_hex(4), itertools.count(1)
    return lambda: build_request(host, port, {**spec, "path": path.replace(UNIQUE, f"{tag}{next(counter)}")})


async def _connection(host: str, port: int, make_request: Callable[[], bytes], deadline: float, tally: Tally) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        tally.socket_errors += 1
        return
    answer = _Answer()
    parser = httptools.HttpResponseParser(answer)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            answer.complete = False
            writer.write(make_request())
            while not answer.complete:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionResetError("server closed the connection")
                parser.feed_data(data)
            tally.latencies.append(time.perf_counter() - started)
            if not 200 <= parser.get_status_code() < 300:
                tally.non_2xx += 1
    except (OSError, httptools.HttpParserError):
        tally.socket_errors += 1
    finally:
        writer.close()


async def drive(url: str, spec: dict[str, object], connections: int, duration: float) -> dict[str, int]:
    """Run `connections` closed loops for `duration` seconds; returns the BENCH_RESULT fields."""
    parts = urlsplit(url)
    host, port = require_loopback(parts.hostname or ""), parts.port or 80
    make_request = request_maker(host, port, spec)
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration
    loops = [_connection(host, port, make_request, deadline, tally) for _ in range(connections)]
    await asyncio.wait_for(asyncio.gather(*loops), duration + 30)
    elapsed = time.perf_counter() - started
    latencies = sorted(tally.latencies)
    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "p50_us": int(_percentile(latencies, 50) * 1e6),
        "p99_us": int(_percentile(latencies, 99) * 1e6),
        "non_2xx": tally.non_2xx,
        "socket_errors": tally.socket_errors,
    }


def _percentile(ordered: list[float], percent: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="closed-loop HTTP/1.1 load generator (wrk fallback)")
    parser.add_argument("url", help="server root, e.g. http://127.0.0.1:8080")
    parser.add_argument("request", help="JSON file with method, path, headers, body")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    spec = json.loads(Path(args.request).read_text())
    result = uvloop.run(drive(args.url, spec, args.connections, args.duration))
    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
