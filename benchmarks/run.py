"""The benchmark entry point: `python -m benchmarks.run [--quick] [--duration S] [--connections 8,64] ...`.

One run starts the static upstream, the gateway and the baseline proxy (each
its own process, pinned to cores), measures every scenario of every app
(invicti: SCIM pass-through; orca: translated to Orca REST) at every
connection count against the gateway and the baseline in turn, then the
added latency of one GET over a direct call, and optionally profiles the
gateway. It prints Markdown and writes JSON (default
benchmarks/results/latest.json). Exit status 2 when any answer was non-2xx
or a socket failed, so a broken gateway cannot pass for a slow one.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import profile, report
from benchmarks.load import Target, pick_tool
from benchmarks.measure import Measurement, Plan, measure
from benchmarks.processes import REPO_ROOT, plan_cores
from benchmarks.scenarios import APPS, SCENARIOS, Scenario, select
from benchmarks.stack import Stack, running_stack, scim_prefix

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, help="seconds per measured run (default 10, --quick 2)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before each run (default 2, --quick 1)")
    parser.add_argument("--connections", default="8,64", help="comma-separated connection counts (default 8,64)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--apps", default=",".join(APPS), help=f"comma-separated, of {', '.join(APPS)}")
    parser.add_argument("--repeat", type=int, default=1, help="runs per proxy and scenario; the median counts")
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto", help="default: wrk if found")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="invicti:get",
        metavar="APP:SCENARIO",
        help="also sample the gateway with py-spy under this load (default invicti:get)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON results")
    args = parser.parse_args(argv)
    args.duration = args.duration or (2.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    args.repeats = []
    if args.repeat < 1:
        parser.error("--repeat needs a positive integer")
    args.connection_counts = [int(part) for part in args.connections.split(",") if part.strip()]
    if not args.connection_counts or min(args.connection_counts) < 1:
        parser.error("--connections needs positive integers")
    try:
        names = [part.strip() for part in args.scenarios.split(",") if part.strip()]
        args.app_list = [part.strip() for part in args.apps.split(",") if part.strip()]
        args.scenario_list = select(names, args.app_list)
        if args.profile:
            app, _, name = args.profile.partition(":")
            args.profiled = select([name or "get"], [app])[0]
    except ValueError as exc:
        parser.error(str(exc))
    return args


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Start the stack, measure everything, stop the stack; returns the JSON-ready results."""
    cores = plan_cores()
    plan = Plan(pick_tool(args.loadgen), args.duration, args.warmup, cores.load)
    print(f"pinning: {cores.describe()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="scim-bench-") as work, running_stack(cores, Path(work)) as stack:
        runs = _compare(plan, stack, args)
        latency = _added_latency(plan, stack)
        found = _profile(plan, stack, args.profiled, max(args.connection_counts)) if args.profile else None
        meta = _meta(args, plan, cores.describe(), stack.gateway_command)
    results: dict[str, Any] = {
        "meta": meta,
        "runs": [run.as_dict() for run in runs],
        "comparisons": report.comparisons(runs),
        "added_latency": {name: run.as_dict() for name, run in latency.items()},
    }
    if args.repeat > 1:
        results["repeats"] = [run.as_dict() for run in args.repeats]
    if found is not None:
        results["profile"] = found
    return results


def _targets(stack: Stack, app: str) -> dict[str, Target]:
    prefix = scim_prefix(app)
    return {name: Target(server.url, prefix, stack.inbound_token) for name, server in stack.proxies().items()}


def _compare(plan: Plan, stack: Stack, args: argparse.Namespace) -> list[Measurement]:
    """Every scenario at every connection count, gateway and baseline alternating `--repeat` times.

    With repeats, the run of median req/s stands for each proxy (a neighbour's burst on a shared
    machine then spoils one run, not the figure); every run is kept in the JSON under `repeats`.
    """
    runs = []
    scenario: Scenario
    for scenario in args.scenario_list:
        targets = _targets(stack, scenario.app)
        for connections in args.connection_counts:
            tries: dict[str, list[Measurement]] = {name: [] for name in stack.proxies()}
            for attempt in range(args.repeat):
                for name, server in stack.proxies().items():
                    label = f"{scenario.app:<7} {scenario.name:<7} c={connections:<3} {name}"
                    print(f"  {label} ({attempt + 1}/{args.repeat}) ...", file=sys.stderr, flush=True)
                    tries[name].append(measure(plan, scenario, server, targets[name], connections))
            for measured in tries.values():
                runs.append(sorted(measured, key=lambda run: run.load.rps)[len(measured) // 2])
                args.repeats.extend(measured)
    return runs


def _added_latency(plan: Plan, stack: Stack) -> dict[str, Measurement]:
    """The same GET at 1 connection: straight to the upstream, through the gateway, through the baseline."""
    print("  latency over a direct call ...", file=sys.stderr, flush=True)
    get = SCENARIOS["get"]
    targets = {"direct": Target(stack.upstream.url, "/v2"), **_targets(stack, "invicti")}
    servers = {"direct": stack.upstream, **stack.proxies()}
    return {name: measure(plan, get, servers[name], targets[name], 1) for name in ("direct", "gateway", "baseline")}


def _profile(plan: Plan, stack: Stack, scenario: Scenario, connections: int) -> dict[str, Any]:
    print(f"  profiling the gateway under {scenario.app} {scenario.name} c={connections} ...", file=sys.stderr)
    target = _targets(stack, scenario.app)["gateway"]
    try:
        return profile.profile(plan, scenario, stack.gateway, target, connections)
    except RuntimeError as exc:
        return {"error": str(exc)}


def _meta(args: argparse.Namespace, plan: Plan, cores: str, gateway_command: str) -> dict[str, Any]:
    return {
        "started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _commit(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} usable cores",
        "cores": cores,
        "load_core": plan.load_core,
        "loadgen": plan.tool,
        "duration": plan.duration,
        "warmup": plan.warmup,
        "connections": args.connection_counts,
        "repeat": args.repeat,
        "scenarios": sorted({scenario.name for scenario in args.scenario_list}),
        "apps": args.app_list,
        "gateway_command": gateway_command,
    }


def _commit() -> str:
    found = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or "unknown"


def failures(results: dict[str, Any]) -> int:
    """Non-2xx answers plus socket errors over every run."""
    runs = list(results["runs"]) + list(results["added_latency"].values())
    return sum(run["non_2xx"] + run["socket_errors"] for run in runs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = benchmark(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(report.markdown(results))
    print(f"\nJSON: {args.output}", file=sys.stderr)
    bad = failures(results)
    if bad:
        print(f"FAILED: {bad} non-2xx answers or socket errors", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
