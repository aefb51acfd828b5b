"""Instructions per request, gateway against baseline: the CPU comparison a noisy machine cannot blur.

Wall-clock and CPU-time figures on a shared 2-vCPU machine swing by 20-30%
between runs of the same build. Valgrind's callgrind counts the instructions a
process executes, which hardly changes from run to run (about 0.5% here), so a
change of a few microseconds per request shows up reliably. Each proxy is
started under callgrind (about 50x slower, so this measures cost, never
speed) beside the same static upstream as benchmarks.run, warmed up, its
counters zeroed, then sent `--requests` GETs by id over 8 connections; the
count covers every thread of the process (the audit writer too) but not the
kernel. The gateway runs with audit, metrics and throttling on, exactly as in
benchmarks.run.

    python -m benchmarks.instructions                # gateway and baseline, 1,000 GETs each (~3 min)
    python -m benchmarks.instructions --requests 2000 --targets gateway

Needs valgrind (`apt-get install valgrind`); it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import yaml

from benchmarks.processes import LOOPBACK, Server, free_port, start_server, stop_server
from benchmarks.scenarios import USER_ID
from benchmarks.stack import GATEWAY_MAIN, gateway_config, scim_prefix

CONNECTIONS = 8
WARMUP_REQUESTS = 200


async def drive(url: str, token: str, requests: int, connections: int = CONNECTIONS) -> int:
    """Send `requests` GETs to `url` over `connections` connections; return how many were not 200."""
    failed = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def worker(count: int) -> None:
            nonlocal failed
            for _ in range(count):
                async with session.get(url, headers=headers) as answer:
                    await answer.read()
                    failed += answer.status != 200

        share, extra = divmod(requests, connections)
        await asyncio.gather(*(worker(share + (index < extra)) for index in range(connections)))
    return failed


def _callgrind(out_dir: Path, name: str) -> list[str]:
    return ["valgrind", "--tool=callgrind", "-q", f"--callgrind-out-file={out_dir}/{name}.%p"]


def _instructions(out_dir: Path, name: str, pid: int) -> int:
    """The `summary:` line of the dump callgrind_control -d wrote for `pid`."""
    for dump in sorted(out_dir.glob(f"{name}.{pid}.*")):
        for line in dump.read_text().splitlines():
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError(f"callgrind wrote no dump for {name}")


@contextlib.contextmanager
def _upstream(work: Path) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.upstream", "--port", str(port)]
    server = start_server("upstream", command, port, log_dir=work, ready_path="/v2/Users")
    try:
        yield server
    finally:
        stop_server(server)


def measure(target: str, upstream: Server, work: Path, requests: int) -> int:
    """Instructions per GET by id for `target` (gateway or baseline) under callgrind."""
    inbound = secrets.token_urlsafe(24)
    env = {"BENCH_UPSTREAM_TOKEN": secrets.token_urlsafe(24), "BENCH_INBOUND_TOKEN": inbound}
    port = free_port()
    if target == "gateway":
        config = work / "gateway.yaml"
        config.write_text(yaml.safe_dump(gateway_config(upstream.url, inbound)))
        args = ["-c", GATEWAY_MAIN, "serve", "--config", str(config), "--host", LOOPBACK, "--port", str(port)]
        ready = "/readyz"
    else:
        args = ["-m", "benchmarks.baseline", "--port", str(port), "--upstream", f"{upstream.url}/v2"]
        ready = "/healthz"
    command = [*_callgrind(work, target), sys.executable, *args]
    server = start_server(target, command, port, log_dir=work, ready_path=ready, env=env, timeout=300)
    try:
        url = f"{server.url}{scim_prefix('invicti')}/Users/{USER_ID}"
        return count_per_request(server, url, inbound, requests, work)
    finally:
        stop_server(server)


def count_per_request(server: Server, url: str, token: str, requests: int, work: Path) -> int:
    """Warm `server` (running under callgrind as `server.name`) up, zero its counters, GET `url` `requests`
    times, and return its instructions per request; RuntimeError if any request was not 200."""
    if asyncio.run(drive(url, token, WARMUP_REQUESTS)):
        raise RuntimeError(f"{server.name}: warm-up requests failed ({server.log_tail()})")
    subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True, capture_output=True)
    failed = asyncio.run(drive(url, token, requests))
    subprocess.run(["callgrind_control", "-d", str(server.pid)], check=True, capture_output=True)
    if failed:
        raise RuntimeError(f"{server.name}: {failed} of {requests} requests failed")
    return _instructions(work, server.name, server.pid) // requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="measured GETs per target (default 1000)")
    parser.add_argument("--targets", default="gateway,baseline", help="comma list of gateway, baseline")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    targets = [name.strip() for name in args.targets.split(",") if name.strip()]
    results: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="scim-bench-ir-") as tmp, _upstream(Path(tmp)) as upstream:
        for target in targets:
            print(f"measuring {target} under callgrind ...", file=sys.stderr)
            results[target] = measure(target, upstream, Path(tmp), args.requests)
    print("| proxy | instructions per GET by id |\n|---|--:|")
    for target, count in results.items():
        print(f"| {target} | {count:,} |")
    if "gateway" in results and "baseline" in results:
        print(f"\ngateway / baseline: {results['gateway'] / results['baseline']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
