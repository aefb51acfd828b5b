"""Noisy neighbour: does one tenant's flood of refused requests slow the other tenants down?

`python -m benchmarks.noisy [--rounds 5] [--duration 6]` starts the static
upstream and the gateway (`scim-gateway serve`, audit and metrics on, as in
production) with two tenants on it: `quiet` (limit 1,000/s) sends GET
/Users/{id} at a steady 200/s, open loop (benchmarks/openload.py: latency
counted from when each request was due); `noisy` (limit 100/s, burst 100, no
wait) sends the same GET at 1,000/s, ten times its limit, so about nine in ten
are answered 429. A second flood sends 1,000/s with a wrong token (401, then
429 from the failed-auth throttle). Each round measures quiet alone (the same
flood then goes to a sink, a second static upstream, so that the load
generators cost the machine the same in every phase), then quiet beside each
flood; the median p99 of each phase over the rounds is reported, and the rise
of quiet's p99 under each flood (target: at most 20%). About two minutes with
the defaults. Exit status 2 when a quiet request was not 200.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.processes import REPO_ROOT, Server, free_port, pinned, plan_cores, start_server, stop_server
from benchmarks.pyload import RESULT_MARK
from benchmarks.scenarios import SCENARIOS
from benchmarks.stack import start_gateway
from gateway.inbound.auth import hash_token

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "noisy.json"
QUIET_LIMIT, NOISY_LIMIT = 1000, 100
FLOODS = ("over_limit", "bad_token")


def gateway_config(upstream_url: str, tokens: dict[str, str]) -> dict[str, Any]:
    """Two tenants, one invicti app each on the static upstream; quiet well within its limit, noisy at 100/s."""

    def tenant(name: str, rate: int) -> dict[str, Any]:
        app = {
            "vendor": "invicti",
            "base_url": f"{upstream_url}/v2",
            "credentials": {"token": "env:BENCH_UPSTREAM"},
            "allow_insecure_url": True,  # the static upstream: plain http on loopback
        }
        return {
            "tokens": [{"name": name, "sha256": hash_token(tokens[name])}],
            "limits": {"rate": rate, "burst": rate, "max_wait": 0},
            "apps": {"invicti": app},
        }

    return {"tenants": {"quiet": tenant("quiet", QUIET_LIMIT), "noisy": tenant("noisy", NOISY_LIMIT)}}


def _load(
    core: int | None, url: str, tenant: str, token: str, rate: float, connections: int, seconds: float, scratch: Path
) -> subprocess.Popen[str]:
    get = SCENARIOS["get"]
    spec = scratch / f"{tenant}-{secrets.token_hex(4)}.json"
    headers = {**get.headers, "Authorization": f"Bearer {token}"}
    path = f"/tenants/{tenant}/apps/invicti/scim/v2{get.path}"
    spec.write_text(json.dumps({"method": get.method, "path": path, "headers": headers, "body": None}))
    command = [sys.executable, "-m", "benchmarks.openload", url, str(spec), "--rate", str(rate)]
    command += ["--connections", str(connections), "--duration", str(seconds)]
    return subprocess.Popen(pinned(command, core), cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=120)
    for line in out.splitlines():
        if line.startswith(RESULT_MARK):
            return dict(json.loads(line[len(RESULT_MARK) :]))
    raise RuntimeError(f"the load generator printed no result:\n{out[-2000:]}")


def phase(
    args: argparse.Namespace,
    core: int | None,
    gateway: Server,
    sink: Server,
    tokens: dict[str, str],
    flood: str | None,
    scratch: Path,
) -> dict[str, Any]:
    """Quiet at its steady rate for `duration` s beside `flood` (started half a second earlier).

    Alone (`flood` None), the same flood goes to `sink` instead: the load generators' own CPU then
    weighs on the machine equally in both phases, and only where the flood lands differs.
    """
    cpu_before = gateway.cpu_seconds()
    token = tokens["noisy"] if flood in (None, "over_limit") else "wrong-" + secrets.token_hex(8)
    target = sink if flood is None else gateway
    noisy = _load(core, target.url, "noisy", token, 10 * NOISY_LIMIT, 16, args.duration + 1, scratch)
    time.sleep(0.5)
    quiet = _load(core, gateway.url, "quiet", tokens["quiet"], args.quiet_rate, 8, args.duration, scratch)
    result = {"flood": flood, "quiet": _result(quiet), "noisy": _result(noisy)}
    result["gateway_cpu_s"] = round(gateway.cpu_seconds() - cpu_before, 2)
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    cores = plan_cores()
    tokens = {"quiet": secrets.token_urlsafe(24), "noisy": secrets.token_urlsafe(24)}
    phases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="scim-noisy-") as work:
        scratch = Path(work)
        started: list[Server] = []
        try:
            port = free_port()
            upstream = start_server(
                "upstream",
                pinned([sys.executable, "-m", "benchmarks.upstream", "--port", str(port)], cores.upstream),
                port,
                log_dir=scratch,
                ready_path="/v2/Users",
            )
            started.append(upstream)
            port = free_port()
            sink_command = [sys.executable, "-m", "benchmarks.upstream", "--port", str(port)]
            sink = start_server("sink", pinned(sink_command, cores.load), port, log_dir=scratch, ready_path="/v2/Users")
            started.append(sink)
            config = gateway_config(upstream.url, tokens)
            gateway = start_gateway(config, scratch, cores.proxy, {"BENCH_UPSTREAM": "upstream-token"})
            started.append(gateway)
            print(f"pinning: {cores.describe()}", file=sys.stderr)
            _result(_load(cores.load, gateway.url, "quiet", tokens["quiet"], args.quiet_rate, 8, 2, scratch))  # warm-up
            for round_number in range(args.rounds):
                for flood in (None, *args.floods):
                    company = "alone" if flood is None else f"beside {flood}"
                    print(
                        f"  round {round_number + 1}/{args.rounds}: quiet {company}",
                        file=sys.stderr,
                        flush=True,
                    )
                    phases.append(phase(args, cores.load, gateway, sink, tokens, flood, scratch))
        finally:
            for server in reversed(started):
                stop_server(server)
    return {
        "meta": {
            "quiet_rate": args.quiet_rate,
            "noisy_rate": 10 * NOISY_LIMIT,
            "noisy_limit": NOISY_LIMIT,
            "duration": args.duration,
            "rounds": args.rounds,
            "cores": cores.describe(),
        },
        "phases": phases,
        "summary": summary(phases),
    }


def summary(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Per phase kind: median p50/p99 of quiet over the rounds, and the p99's rise over quiet alone."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    for entry in phases:
        kinds.setdefault(entry["flood"] or "alone", []).append(entry)
    found: dict[str, Any] = {}
    for kind, entries in kinds.items():
        found[kind] = {
            "quiet_p50_ms": statistics.median(e["quiet"]["p50_us"] for e in entries) / 1000,
            "quiet_p99_ms": statistics.median(e["quiet"]["p99_us"] for e in entries) / 1000,
            "quiet_p99s_ms": [e["quiet"]["p99_us"] / 1000 for e in entries],
            "quiet_statuses": [e["quiet"]["statuses"] for e in entries],
            "noisy_statuses": [e["noisy"]["statuses"] for e in entries],
            "gateway_cpu_s": statistics.median(e["gateway_cpu_s"] for e in entries),
        }
    alone = found["alone"]["quiet_p99_ms"]
    for kind in found:
        found[kind]["p99_rise_percent"] = round(100 * (found[kind]["quiet_p99_ms"] / alone - 1), 1) if alone else None
    return found


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        f"quiet: {meta['quiet_rate']:.0f} req/s (GET /Users/{{id}}); noisy: {meta['noisy_rate']} req/s against a "
        f"limit of {meta['noisy_limit']}/s; {meta['rounds']} rounds of {meta['duration']:.0f} s; {meta['cores']}",
        "",
        "| quiet tenant | p50 ms | p99 ms | p99 per round | p99 rise | gateway CPU s | noisy answers (last round) |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, row in results["summary"].items():
        noisy = row["noisy_statuses"][-1] if kind != "alone" else "(sent to a sink)"
        rounds = ", ".join(f"{value:.2f}" for value in row["quiet_p99s_ms"])
        lines.append(
            f"| {kind} | {row['quiet_p50_ms']:.2f} | {row['quiet_p99_ms']:.2f} | {rounds} | "
            f"{row['p99_rise_percent']:+.1f}% | {row['gateway_cpu_s']:.2f} | {noisy} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.noisy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of (alone, beside each flood); medians count")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per phase")
    parser.add_argument("--quiet-rate", type=float, default=200.0, help="the quiet tenant's steady requests/s")
    parser.add_argument("--floods", default=",".join(FLOODS), help=f"comma-separated, of {', '.join(FLOODS)}")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON results")
    args = parser.parse_args(argv)
    args.floods = [name for name in args.floods.split(",") if name]
    if not set(args.floods) <= set(FLOODS) or args.rounds < 1:
        parser.error(f"--floods takes {', '.join(FLOODS)}; --rounds a positive integer")
    results = run(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    bad = sum(
        count for entry in results["phases"] for status, count in entry["quiet"]["statuses"].items() if status != "200"
    )
    if bad:
        print(f"FAILED: {bad} quiet requests were not answered 200", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
