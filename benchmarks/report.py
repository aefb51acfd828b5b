"""Render results: one JSON document (benchmarks/results/latest.json) and Markdown tables for stdout.

Ratios are gateway / baseline: for req/s above 1.0 means the gateway is
faster; for CPU per request below 1.0 means the gateway is cheaper.
"""

from __future__ import annotations

from typing import Any

from benchmarks.measure import Measurement


def comparisons(runs: list[Measurement]) -> list[dict[str, Any]]:
    """Pair gateway and baseline runs of the same app, scenario and connection count."""
    by_key = {(run.app, run.scenario, run.connections, run.server): run for run in runs}
    pairs = []
    for run in runs:
        if run.server != "gateway":
            continue
        base = by_key.get((run.app, run.scenario, run.connections, "baseline"))
        if base is None:
            continue
        pairs.append(
            {
                "app": run.app,
                "scenario": run.scenario,
                "connections": run.connections,
                "gateway_rps": run.load.rps,
                "baseline_rps": base.load.rps,
                "rps_ratio": _ratio(run.load.rps, base.load.rps),
                "gateway_cpu_us": run.cpu_us_per_request,
                "baseline_cpu_us": base.cpu_us_per_request,
                "cpu_ratio": _ratio(run.cpu_us_per_request, base.cpu_us_per_request),
            }
        )
    return pairs


def _ratio(mine: float | None, theirs: float | None) -> float | None:
    return round(mine / theirs, 2) if mine and theirs else None


def markdown(results: dict[str, Any]) -> str:
    """The human summary: setup, the comparison table, added latency, health of the run, profile."""
    meta = results["meta"]
    runs = {(r["app"], r["scenario"], r["connections"], r["server"]): r for r in results["runs"]}
    lines = [
        f"## scim-gateway benchmark ({meta['started']}, commit {meta['commit']})",
        "",
        f"- cores: {meta['cores']}",
        f"- load: {meta['loadgen']}, {meta['duration']}s per run after {meta['warmup']}s warm-up, closed loop"
        + (f"; median of {meta['repeat']} alternating runs per proxy" if meta.get("repeat", 1) > 1 else ""),
        "- ratio = gateway / baseline: req/s above 1 is better, CPU per request below 1 is better",
        "",
        "- apps: invicti = SCIM pass-through; orca = translated to Orca REST (reads back every write)",
        "- audit, metrics and throttling (inbound and outbound limits, set never to refuse) are on",
        "",
        "| app | scenario | conns | gateway req/s | baseline req/s | req/s ratio | gateway p50 / p99 ms "
        "| baseline p50 / p99 ms | gateway CPU µs/req | baseline CPU µs/req | CPU ratio |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for pair in results["comparisons"]:
        key = (pair["app"], pair["scenario"], pair["connections"])
        gw, base = runs[(*key, "gateway")], runs[(*key, "baseline")]
        lines.append(
            f"| {pair['app']} | {pair['scenario']} | {pair['connections']} | {gw['rps']:,.0f} | {base['rps']:,.0f} "
            f"| {_num(pair['rps_ratio'])} | {gw['p50_ms']:.2f} / {gw['p99_ms']:.2f} "
            f"| {base['p50_ms']:.2f} / {base['p99_ms']:.2f} | {_num(gw['cpu_us_per_request'], 0)} "
            f"| {_num(base['cpu_us_per_request'], 0)} | {_num(pair['cpu_ratio'])} |"
        )
    lines += _latency_section(results.get("added_latency"))
    lines += _health_section(results)
    lines += _profile_section(results.get("profile"))
    return "\n".join(lines)


def _latency_section(latency: dict[str, Any] | None) -> list[str]:
    if not latency:
        return []
    lines = [
        "",
        "Added latency over a direct call (GET user by id, 1 connection):",
        "",
        "| path | p50 ms | p99 ms | added p50 ms | CPU µs/req |",
        "|---|--:|--:|--:|--:|",
    ]
    direct = latency["direct"]["p50_ms"]
    for name in ("direct", "gateway", "baseline"):
        run = latency[name]
        added = "" if name == "direct" else f"+{run['p50_ms'] - direct:.3f}"
        cpu = "" if name == "direct" else _num(run["cpu_us_per_request"], 0)
        lines.append(f"| {name} | {run['p50_ms']:.3f} | {run['p99_ms']:.3f} | {added} | {cpu} |")
    return lines


def _health_section(results: dict[str, Any]) -> list[str]:
    everything = list(results["runs"]) + list((results.get("added_latency") or {}).values())
    bad = sum(run["non_2xx"] + run["socket_errors"] for run in everything)
    proxied = [run for run in everything if run["server"] != "upstream"]
    load_core = results["meta"].get("load_core")
    lines = ["", f"- non-2xx answers or socket errors across all runs: {bad}"]
    if load_core is not None:
        busiest = max(run["core_busy_percent"].get(str(load_core), 0.0) for run in proxied)
        lines.append(f"- busiest the load-generator/upstream core {load_core} got: {busiest:.0f}% (100% = bottleneck)")
    return lines


def _profile_section(found: dict[str, Any] | None) -> list[str]:
    if not found:
        return []
    if "error" in found:
        return ["", f"- profile: {found['error']}"]
    threads = ", ".join(f"{t['name']}[{t['tid']}] {t['cpu_percent']}%" for t in found["threads"] if t["cpu_percent"])
    lines = [
        "",
        f"Gateway profile, {found['scenario']} at {found['connections']} connections "
        f"(py-spy, {found['samples']} samples of the event-loop thread; CPU by thread: {threads}):",
        "",
        "| self % | frame (top of stack) | inclusive % | our frame (anywhere on stack) |",
        "|--:|---|--:|---|",
    ]
    for own, incl in zip(found["self"], found["inclusive_ours"], strict=False):
        lines.append(f"| {own['percent']} | `{own['frame']}` | {incl['percent']} | `{incl['frame']}` |")
    shares = ", ".join(f"{p['package']} {p['percent']}%" for p in found["packages"])
    lines += ["", f"Self time by package: {shares}"]
    return lines


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"
