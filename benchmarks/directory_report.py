"""The directory benchmark's request, run metadata, comparisons against `directory: off`, and Markdown."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
from dataclasses import replace
from typing import Any

from benchmarks.measure import Plan
from benchmarks.processes import REPO_ROOT
from benchmarks.scenarios import ORCA_SCENARIOS

#: Okta's GET by id; the path is set to the benchmark user of each gateway.
GET = replace(ORCA_SCENARIOS["get"], name="get")
#: The read target of issue 17: a directory-backed read costs at most this much more CPU than `off`.
CPU_TARGET = 1.20


def meta(args: argparse.Namespace, plan: Plan, cores: str) -> dict[str, Any]:
    return {
        "started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _commit(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} usable cores",
        "cores": cores,
        "loadgen": plan.tool,
        "duration": plan.duration,
        "warmup": plan.warmup,
        "connections": args.connections,
        "writes": args.writes,
        "repeat": args.repeat,
        "variants": args.variant_list,
    }


def comparisons(variants: dict[str, Any]) -> dict[str, Any]:
    """Per directory variant, against `off`: CPU per GET ratio (and whether it meets CPU_TARGET), p99 of the
    reads, and the added p50/p99 latency and CPU of each kind of write. Empty without an `off` run."""
    off = variants.get("off")
    if off is None:
        return {}
    found = {}
    for name, variant in variants.items():
        if name == "off":
            continue
        reads, base = variant["reads"], off["reads"]
        ratio = round(reads["cpu_us_per_request"] / base["cpu_us_per_request"], 3)
        writes = {
            kind: {
                "added_p50_ms": round(run["p50_ms"] - off["writes"][kind]["p50_ms"], 3),
                "added_p99_ms": round(run["p99_ms"] - off["writes"][kind]["p99_ms"], 3),
                "added_cpu_us": round(run["cpu_us_per_request"] - off["writes"][kind]["cpu_us_per_request"], 1),
            }
            for kind, run in variant["writes"].items()
        }
        found[name] = {"read_cpu_ratio": ratio, "read_cpu_target_met": ratio <= CPU_TARGET, "writes": writes}
    return found


def markdown(results: dict[str, Any]) -> str:
    """Reads and writes per variant, one row each, then the comparison against `off`."""
    info = results["meta"]
    lines = [
        f"Directory benchmark, commit {info['commit']}, {info['machine']}, {info['loadgen']}, "
        f"{info['duration']:g} s reads at {info['connections']} connections, {info['writes']} PATCHes per kind.",
        "",
        "| directory | GET req/s | p50 ms | p99 ms | CPU µs/GET | vs off | PATCH held p50 / p99 ms "
        "| CPU µs | PATCH vendor p50 / p99 ms | CPU µs |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    comparison = results.get("comparisons", {})
    for name, variant in results["variants"].items():
        reads, held, vendor = variant["reads"], variant["writes"]["held"], variant["writes"]["vendor"]
        ratio = comparison.get(name, {}).get("read_cpu_ratio")
        versus = "1.00" if name == "off" else (f"{ratio:.2f}" if ratio is not None else "-")
        lines.append(
            f"| {name} | {reads['rps']:,.0f} | {reads['p50_ms']:.2f} | {reads['p99_ms']:.2f} "
            f"| {reads['cpu_us_per_request']:,.0f} | {versus} "
            f"| {held['p50_ms']:.2f} / {held['p99_ms']:.2f} | {held['cpu_us_per_request']:,.0f} "
            f"| {vendor['p50_ms']:.2f} / {vendor['p99_ms']:.2f} | {vendor['cpu_us_per_request']:,.0f} |"
        )
    if comparison:
        lines += ["", "| directory | CPU per GET vs off | target ≤ 1.20 | PATCH held: added p50 / p99 ms "
                  "| PATCH vendor: added p50 / p99 ms |", "|---|--:|---|--:|--:|"]  # fmt: skip
        for name, found in comparison.items():
            held, vendor = found["writes"]["held"], found["writes"]["vendor"]
            lines.append(
                f"| {name} | {found['read_cpu_ratio']:.2f} | {'met' if found['read_cpu_target_met'] else 'MISSED'} "
                f"| {held['added_p50_ms']:+.2f} / {held['added_p99_ms']:+.2f} "
                f"| {vendor['added_p50_ms']:+.2f} / {vendor['added_p99_ms']:+.2f} |"
            )
    return "\n".join(lines)


def to_json(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"


def _commit() -> str:
    found = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or "unknown"
