"""What the gateway's directory costs: Orca reads and writes, directory off, full on SQLite, full on PostgreSQL.

    python -m benchmarks.directory [--quick] [--duration S] [--connections 8] [--writes 200] [--repeat N]

One run starts the static upstream (its Orca REST half, benchmarks/orca_upstream.py), a real PostgreSQL
server (benchmarks/postgres.py) and three gateways, exactly as `scim-gateway serve`, that differ only in
the `orca` app's directory: off, full on a SQLite file, full on that PostgreSQL. Each gateway first creates
one user with Okta's attribute set (so the directory holds what Orca cannot: name parts, title, nickName,
externalId, ...), then:

- reads: GET of that user by id, closed loop at `--connections`, wrk or benchmarks/pyload.py, after a
  warm-up; CPU per GET is the gateway process's CPU time (every thread: aiosqlite runs one per connection)
  over the GETs answered;
- writes: `--writes` PATCHes one after another (one connection), of a held attribute (`title`) and of a
  vendor-stored one (`displayName`, Orca's `name`), each with a new value; latency per PATCH and CPU per PATCH.

Variants take turns (`--repeat` rounds); the round of median CPU per request stands. Markdown on stdout,
JSON in benchmarks/results/directory.json; exit 2 if any answer was not 2xx.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks import directory_report
from benchmarks.directory_writes import WriteResult, create_user, patch_many
from benchmarks.load import Target, pick_tool
from benchmarks.measure import Measurement, Plan, measure
from benchmarks.postgres import postgres_server
from benchmarks.processes import REPO_ROOT, CorePlan, Server, plan_cores, stop_server
from benchmarks.stack import gateway_config, scim_prefix, start_gateway, start_upstream
from gateway.directory.keys import generate_key

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "directory.json"
VARIANTS = ("off", "sqlite", "postgresql")
APP = "orca"
PREFIX = scim_prefix(APP)
WRITES = {"held": "title", "vendor": "displayName"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.directory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, help="seconds per measured read run (default 10, --quick 2)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before each read run (default 2, --quick 1)")
    parser.add_argument("--connections", type=int, default=8, help="connections of the read runs (default 8)")
    parser.add_argument("--writes", type=int, help="PATCHes per kind and variant (default 200, --quick 20)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every variant; the median counts")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto", help="default: wrk if found")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON results")
    args = parser.parse_args(argv)
    args.duration = args.duration or (2.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    args.writes = args.writes or (20 if args.quick else 200)
    args.variant_list = [part.strip() for part in args.variants.split(",") if part.strip()]
    unknown = [name for name in args.variant_list if name not in VARIANTS]
    if unknown or not args.variant_list:
        parser.error(f"--variants: choose from {', '.join(VARIANTS)}")
    if args.repeat < 1 or args.connections < 1 or args.writes < 1:
        parser.error("--repeat, --connections and --writes need positive integers")
    return args


def variant_config(variant: str, upstream_url: str, inbound_token: str) -> dict[str, Any]:
    """The benchmark's gateway config (benchmarks/stack.py) with only the orca app, in `variant`'s directory mode."""
    config = gateway_config(upstream_url, inbound_token)
    apps: dict[str, Any] = config["tenants"]["bench"]["apps"]  # type: ignore[index]
    apps.pop("invicti")
    apps[APP]["directory"] = "off" if variant == "off" else "full"
    config["directory"] = {
        "url": "env:BENCH_DIRECTORY_URL",
        "encryption": {"keys": ["env:BENCH_DIRECTORY_KEY"], "index_key": "env:BENCH_DIRECTORY_INDEX_KEY"},
    }
    return config


@contextlib.contextmanager
def running_gateways(variants: list[str], cores: CorePlan, work: Path) -> Iterator[tuple[dict[str, Server], str]]:
    """The upstream, PostgreSQL (if a variant needs it) and one gateway per variant; (gateways, inbound token)."""
    token = secrets.token_urlsafe(24)
    base_env = {
        "BENCH_UPSTREAM_TOKEN": secrets.token_urlsafe(24),
        "BENCH_DIRECTORY_KEY": generate_key(),
        "BENCH_DIRECTORY_INDEX_KEY": generate_key(),
    }
    with contextlib.ExitStack() as stack:
        upstream = start_upstream(work, cores.upstream)
        stack.callback(stop_server, upstream)
        urls = {"off": f"sqlite:///{work / 'off.db'}", "sqlite": f"sqlite:///{work / 'directory.db'}"}
        if "postgresql" in variants:
            # Durable commits, as in production. Not pinned: beside the load generator and the upstream, every
            # round trip waited for that busy core (a PATCH +17 ms at p50 instead of +1.5 ms on this machine).
            server = stack.enter_context(postgres_server(durable=True))
            urls["postgresql"] = server.url("postgres")
        gateways = {}
        for variant in variants:
            directory = work / variant
            directory.mkdir()
            env = {**base_env, "BENCH_DIRECTORY_URL": urls[variant]}
            config = variant_config(variant, upstream.url, token)
            gateways[variant] = start_gateway(config, directory, cores.proxy, env)
            stack.callback(stop_server, gateways[variant])
        yield gateways, token


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Start everything, measure every variant `--repeat` times in turn, stop everything; JSON-ready results."""
    cores = plan_cores()
    plan = Plan(pick_tool(args.loadgen), args.duration, args.warmup, cores.load)
    print(f"pinning: {cores.describe()}", file=sys.stderr)
    reads: dict[str, list[Measurement]] = {name: [] for name in args.variant_list}
    writes: dict[str, dict[str, list[WriteResult]]] = {name: {kind: [] for kind in WRITES} for name in reads}
    with (
        tempfile.TemporaryDirectory(prefix="scim-bench-dir-") as work,
        running_gateways(args.variant_list, cores, Path(work)) as (gateways, token),
    ):
        users = {name: create_user(server.url + PREFIX, token) for name, server in gateways.items()}
        for attempt in range(args.repeat):
            for name, server in gateways.items():
                print(f"  {name:<10} ({attempt + 1}/{args.repeat}) ...", file=sys.stderr, flush=True)
                get = replace(directory_report.GET, path=f"/Users/{users[name]}")
                reads[name].append(measure(plan, get, server, Target(server.url, PREFIX, token), args.connections))
                for kind, attribute in WRITES.items():
                    url = f"{server.url}{PREFIX}/Users/{users[name]}"
                    writes[name][kind].append(patch_many(server, url, token, attribute, args.writes))
    return {
        "meta": directory_report.meta(args, plan, cores.describe()),
        "variants": {
            name: {
                "reads": _median(reads[name], lambda run: run.cpu_us_per_request or 0.0).as_dict(),
                "writes": {kind: _median(runs, _p50).as_dict() for kind, runs in writes[name].items()},
            }
            for name in reads
        },
        "repeats": {name: [run.as_dict() for run in runs] for name, runs in reads.items()},
    }


def _median(runs: list[Any], key: Any) -> Any:
    return sorted(runs, key=key)[len(runs) // 2]


def _p50(run: WriteResult) -> float:
    return run.p50_ms


def failures(results: dict[str, Any]) -> int:
    """Non-2xx answers and socket errors over every read and write."""
    bad = 0
    for variant in results["variants"].values():
        bad += variant["reads"]["non_2xx"] + variant["reads"]["socket_errors"]
        bad += sum(run["non_2xx"] for run in variant["writes"].values())
    return bad


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = benchmark(args)
    results["comparisons"] = directory_report.comparisons(results["variants"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(directory_report.to_json(results))
    print(directory_report.markdown(results))
    print(f"\nJSON: {args.output}", file=sys.stderr)
    bad = failures(results)
    if bad:
        print(f"FAILED: {bad} non-2xx answers or socket errors", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
