"""System calls per GET by id, gateway against baseline: the kernel side that instruction counts leave out.

Starts the same three servers as benchmarks.run, warms each proxy up with
wrk, then counts every system call of the proxy process (all threads) with
`strace -c -f` while wrk sends GETs by id over 8 connections, and divides by
the requests answered. strace slows the proxy down a lot, so this counts
calls, never time; a thread that wakes on a timer (the gateway's audit
writer) is over-counted, since fewer requests arrive between its wake-ups.

    python -m benchmarks.syscalls                    # ~30 s

Needs wrk and strace (`apt-get install wrk strace`) and permission to trace
(root, or ptrace_scope 0); not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.processes import plan_cores
from benchmarks.scenarios import USER_ID
from benchmarks.stack import running_stack, scim_prefix

CONNECTIONS = 8


def count(pid: int, url: str, token: str, seconds: int, work: Path) -> tuple[int, dict[str, int]]:
    """Requests answered and system calls by name while wrk loads `url` for `seconds`."""
    auth = ["-H", f"Authorization: Bearer {token}"]
    wrk = ["wrk", "-t1", f"-c{CONNECTIONS}", *auth, url]
    subprocess.run([*wrk[:3], "-d2s", *wrk[3:]], check=True, capture_output=True)  # warm-up
    output = work / f"strace.{pid}"
    tracer = subprocess.Popen(["strace", "-c", "-f", "-o", str(output), "-p", str(pid)], stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached to every thread before the load starts
    load = subprocess.run([*wrk[:3], f"-d{seconds}s", *wrk[3:]], check=True, capture_output=True, text=True)
    tracer.send_signal(subprocess.signal.SIGINT)
    tracer.wait(30)
    requests = int(next(line for line in load.stdout.splitlines() if "requests in" in line).split()[0])
    calls: dict[str, int] = {}
    for line in output.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[3].isdigit() and fields[-1] != "total":
            calls[fields[-1]] = int(fields[3])
    return requests, calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="seconds of load while tracing (default 5)")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("wrk", "strace") if shutil.which(tool) is None]
    if missing:
        print(f"missing: {', '.join(missing)} (apt-get install {' '.join(missing)})", file=sys.stderr)
        return 2
    per_request: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="scim-bench-syscalls-") as tmp:
        work = Path(tmp)
        with running_stack(plan_cores(), work) as stack:
            for name, server in stack.proxies().items():
                url = f"{server.url}{scim_prefix('invicti')}/Users/{USER_ID}"
                requests, calls = count(server.pid, url, stack.inbound_token, args.seconds, work)
                per_request[name] = {call: number / requests for call, number in calls.items()}
    names = sorted({call for calls in per_request.values() for call in calls})
    print("| system call | gateway per GET | baseline per GET |\n|---|--:|--:|")
    for call in sorted(names, key=lambda call: -per_request["gateway"].get(call, 0.0)):
        gateway, baseline = per_request["gateway"].get(call, 0.0), per_request["baseline"].get(call, 0.0)
        if gateway >= 0.005 or baseline >= 0.005:
            print(f"| {call} | {gateway:.2f} | {baseline:.2f} |")
    totals = {name: sum(calls.values()) for name, calls in per_request.items()}
    print(f"| **all** | **{totals['gateway']:.2f}** | **{totals['baseline']:.2f}** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
