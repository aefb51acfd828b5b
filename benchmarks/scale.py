"""Scale figures: `python -m benchmarks.scale [--quick] [--output FILE]`.

Each figure starts its own servers on loopback (the gateway exactly as in
production, `scim-gateway serve`, pinned like in benchmarks/run.py), is
measured at two or more sizes so that growth can be judged, and is bounded
in time (every wait has a timeout):

- token refresh: the Delinea app's token is revoked at the vendor, then N
  requests arrive at once; all get 401 from Delinea, and the gateway must
  fetch exactly one new token for all of them (single flight);
- tenants: start-up time, RSS and the cost of one GET (req/s and CPU per
  request under wrk) with 1 tenant and with many in the config;
- Delinea listing: N users read through the gateway with count=1000 (each
  SCIM page is ten concurrent Delinea pages of 100), with the time and the
  gateway's peak RSS growth during the listing;
- RSS of the gateway worker at idle and its peak under load (64 connections).

Prints Markdown, writes JSON (default benchmarks/results/scale.json).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from benchmarks.load import Target, pick_tool
from benchmarks.measure import Plan, measure
from benchmarks.processes import LOOPBACK, REPO_ROOT, Server, free_port, pinned, plan_cores, start_server, stop_server
from benchmarks.scenarios import SCENARIOS
from benchmarks.stack import GATEWAY_MAIN
from gateway.inbound.auth import hash_token

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "scale.json"
_SECRETS = {
    "BENCH_UPSTREAM_TOKEN": secrets.token_urlsafe(24),
    "BENCH_DELINEA_CLIENT_ID": "bench-gateway",
    "BENCH_DELINEA_CLIENT_SECRET": secrets.token_urlsafe(24),
}
_TOKEN = secrets.token_urlsafe(24)


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak since start or the last reset) of `pid`, in kB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def wait_idle(server: Server, timeout: float = 180.0) -> float:
    """Seconds until `server` used under 5% of a core over half a second (bounded by `timeout`)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        before = server.cpu_seconds()
        time.sleep(0.5)
        if server.cpu_seconds() - before < 0.025:
            break
    return time.perf_counter() - started


def reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux: writing 5 to clear_refs); ignored where not allowed."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


@contextlib.contextmanager
def gateway(config: dict[str, Any], work: Path, core: int | None, timeout: float = 120.0) -> Iterator[Server]:
    """`scim-gateway serve` on a generated config; yields once /readyz answers 200."""
    path = work / f"gateway-{secrets.token_hex(3)}.yaml"
    # /metrics on a free loopback port of its own (the default 9464 could be taken).
    config = {"observability": {"metrics_port": 0, "metrics_host": LOOPBACK}, **config}
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    command = [sys.executable, "-c", GATEWAY_MAIN, "serve", "--config", str(path), "--host", LOOPBACK]
    server = start_server(
        "gateway", pinned([*command, "--port", str(port)], core), port, log_dir=work, ready_path="/readyz",
        env=_SECRETS, timeout=timeout,
    )  # fmt: skip
    try:
        yield server
    finally:
        stop_server(server)


@contextlib.contextmanager
def delinea(users: int, work: Path, core: int | None) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.scale_sim", "--port", str(port), "--users", str(users)]
    server = start_server(
        "delinea", pinned(command, core), port, log_dir=work, ready_path="/_sim/requests", env=_SECRETS, timeout=120
    )
    try:
        yield server
    finally:
        stop_server(server)


def _tenant(index: int, apps: dict[str, Any]) -> dict[str, Any]:
    return {"tokens": [{"name": "idp", "sha256": hash_token(f"{_TOKEN}-{index}")}], "apps": apps}


def _delinea_config(url: str) -> dict[str, Any]:
    app = {
        "vendor": "delinea",
        "base_url": url,
        "allow_insecure_url": True,  # the simulator: plain http on loopback
        "credentials": {"client_id": "env:BENCH_DELINEA_CLIENT_ID", "client_secret": "env:BENCH_DELINEA_CLIENT_SECRET"},
    }
    return {"tenants": {"t0": _tenant(0, {"delinea": app})}}


def _headers(index: int = 0) -> dict[str, str]:
    return {"Authorization": f"Bearer {_TOKEN}-{index}", "Accept": "application/scim+json"}


async def _json(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with session.request(method, url, **kwargs) as response:
        body = await response.read()
        return response.status, (json.loads(body) if body else None)


async def _issued(session: aiohttp.ClientSession, sim: Server) -> int:
    _, state = await _json(session, "GET", f"{sim.url}/_sim/state")
    return int(state["tokens"]["issued"])


async def _token_refresh(gw: Server, sim: Server, requests: int) -> dict[str, Any]:
    root = f"{gw.url}/tenants/t0/apps/delinea/scim/v2"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async with asyncio.timeout(60):
            status, page = await _json(session, "GET", f"{root}/Users?count=1", headers=_headers())
            assert status == 200, page
            user = f"{root}/Users/{page['Resources'][0]['id']}"
            await _json(session, "POST", f"{sim.url}/_bench/revoke")
            before = await _issued(session, sim)
            started = time.perf_counter()
            answers = await asyncio.gather(*(_json(session, "GET", user, headers=_headers()) for _ in range(requests)))
            seconds = time.perf_counter() - started
            refreshes = await _issued(session, sim) - before
    failed = sum(1 for status, _ in answers if status != 200)
    return {"requests": requests, "seconds": round(seconds, 3), "token_requests": refreshes, "non_200": failed}


def token_refresh(sizes: list[int], work: Path, cores: Any) -> list[dict[str, Any]]:
    """N concurrent GETs right after the vendor revoked the token: one refresh, all 200."""
    results = []
    for size in sizes:
        with delinea(5, work, cores.upstream) as sim, gateway(_delinea_config(sim.url), work, cores.proxy) as gw:
            results.append(asyncio.run(_token_refresh(gw, sim, size)))
        print(f"  token refresh x{size}: {results[-1]}", file=sys.stderr)
    return results


def tenants(sizes: list[int], work: Path, cores: Any, plan: Plan) -> list[dict[str, Any]]:
    """Start-up time, idle RSS, GET cost and peak RSS under load, with `size` tenants of one invicti app each."""
    results = []
    port = free_port()
    upstream_cmd = [sys.executable, "-m", "benchmarks.upstream", "--port", str(port)]
    upstream = start_server(
        "upstream", pinned(upstream_cmd, cores.upstream), port, log_dir=work, ready_path="/v2/Users"
    )
    try:
        for size in sizes:
            app = {
                "vendor": "invicti",
                "base_url": f"{upstream.url}/v2",
                "credentials": {"token": "env:BENCH_UPSTREAM_TOKEN"},
                "allow_insecure_url": True,  # the static upstream: plain http on loopback
            }
            config = {"tenants": {f"t{index}": _tenant(index, {"invicti": app}) for index in range(size)}}
            started = time.perf_counter()
            with gateway(config, work, cores.proxy, timeout=300) as gw:
                startup = time.perf_counter() - started
                settled = wait_idle(gw)  # the start-up connectivity checks of every app run after /readyz
                idle = rss_kb(gw.pid)["VmRSS"]
                last = size - 1
                target = Target(gw.url, f"/tenants/t{last}/apps/invicti/scim/v2", f"{_TOKEN}-{last}")
                get = measure(plan, SCENARIOS["get"], gw, target, 8)
                reset_peak(gw.pid)
                loaded = measure(plan, SCENARIOS["get"], gw, target, 64)
                peak = rss_kb(gw.pid)["VmHWM"]
            results.append(
                {
                    "tenants": size,
                    "startup_s": round(startup, 2),
                    "checks_done_s": round(startup + settled, 2),
                    "rss_idle_mb": round(idle / 1024, 1),
                    "rss_peak_load_mb": round(peak / 1024, 1),
                    "get_rps_8": get.load.rps,
                    "get_cpu_us": get.cpu_us_per_request,
                    "get_p99_ms_8": get.load.p99_ms,
                    "get_rps_64": loaded.load.rps,
                    "non_2xx": get.load.non_2xx + loaded.load.non_2xx + get.load.socket_errors,
                }
            )
            print(f"  tenants x{size}: {results[-1]}", file=sys.stderr)
    finally:
        stop_server(upstream)
    return results


async def _list_all(gw: Server, users: int) -> dict[str, Any]:
    root = f"{gw.url}/tenants/t0/apps/delinea/scim/v2"
    seen, pages = set(), 0
    async with aiohttp.ClientSession() as session:
        async with asyncio.timeout(300):
            status, _ = await _json(session, "GET", f"{root}/Users?count=1", headers=_headers())  # token in hand
            rss_before = rss_kb(gw.pid)["VmRSS"]
            reset_peak(gw.pid)
            started = time.perf_counter()
            for start in range(1, users + 1, 1000):
                status, page = await _json(
                    session, "GET", f"{root}/Users?startIndex={start}&count=1000", headers=_headers()
                )
                assert status == 200, page
                seen.update(resource["id"] for resource in page["Resources"])
                pages += 1
            seconds = time.perf_counter() - started
    peak = rss_kb(gw.pid)["VmHWM"]
    return {
        "users": users,
        "listed": len(seen),
        "scim_pages": pages,
        "seconds": round(seconds, 2),
        "ms_per_scim_page": round(1000 * seconds / max(pages, 1), 1),
        "rss_before_mb": round(rss_before / 1024, 1),
        "rss_peak_growth_mb": round((peak - rss_before) / 1024, 1),
    }


def delinea_listing(sizes: list[int], work: Path, cores: Any) -> list[dict[str, Any]]:
    """Every user of a Delinea tenant of `size` users, read through the gateway 1000 at a time."""
    results = []
    for size in sizes:
        with delinea(size, work, cores.upstream) as sim, gateway(_delinea_config(sim.url), work, cores.proxy) as gw:
            results.append(asyncio.run(_list_all(gw, size)))
        print(f"  delinea listing x{size}: {results[-1]}", file=sys.stderr)
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = [f"## scim-gateway scale figures ({results['meta']['started']}, commit {results['meta']['commit']})", ""]
    lines += ["Token refresh (Delinea, token revoked at the vendor, N requests at once):", ""]
    lines += ["| concurrent requests | seconds for all | token requests | non-200 |", "|--:|--:|--:|--:|"]
    lines += [
        f"| {r['requests']:,} | {r['seconds']} | {r['token_requests']} | {r['non_200']} |"
        for r in results["token_refresh"]
    ]
    lines += ["", "Tenants in the config (one invicti app each; GET on the last tenant):", ""]
    lines += [
        "| tenants | start-up s | checks done s | RSS idle MB | RSS peak under load MB | GET req/s (8 conns) "
        "| GET CPU µs/req | GET p99 ms (8) | GET req/s (64) | non-2xx |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results["tenants"]:
        lines.append(
            f"| {r['tenants']:,} | {r['startup_s']} | {r['checks_done_s']} | {r['rss_idle_mb']} "
            f"| {r['rss_peak_load_mb']} "
            f"| {r['get_rps_8']:,.0f} | {r['get_cpu_us']} | {r['get_p99_ms_8']} | {r['get_rps_64']:,.0f} "
            f"| {r['non_2xx']} |"
        )
    lines += [
        "",
        "Listing a Delinea tenant through the gateway, count=1000 "
        "(each SCIM page: ten Delinea pages of 100, four at a time):",
        "",
    ]
    lines += [
        "| users | listed | SCIM pages | seconds | ms per SCIM page | RSS before MB | peak RSS growth MB |",
        "|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results["delinea_listing"]:
        lines.append(
            f"| {r['users']:,} | {r['listed']:,} | {r['scim_pages']} | {r['seconds']} | {r['ms_per_scim_page']} "
            f"| {r['rss_before_mb']} | {r['rss_peak_growth_mb']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only, for a smoke test")
    parser.add_argument("--figures", default="token,tenants,listing", help="comma-separated subset to run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    from benchmarks.run import _commit  # the same `git describe` as the main benchmark

    cores = plan_cores()
    plan = Plan(pick_tool("auto"), 1.0 if args.quick else 3.0, 0.0 if args.quick else 1.0, cores.load)
    refresh_sizes, tenant_sizes, user_sizes = ([10, 100], [1, 100], [200, 1000]) if args.quick else (
        [100, 1000], [1, 1000, 10_000], [1000, 10_000])  # fmt: skip
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="scim-scale-") as scratch:
        work = Path(scratch)
        results: dict[str, Any] = {"meta": {"started": started, "commit": _commit(), "cores": cores.describe()}}
        figures = set(args.figures.split(","))
        results["token_refresh"] = token_refresh(refresh_sizes, work, cores) if "token" in figures else []
        results["tenants"] = tenants(tenant_sizes, work, cores, plan) if "tenants" in figures else []
        results["delinea_listing"] = delinea_listing(user_sizes, work, cores) if "listing" in figures else []
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    bad = sum(r["non_200"] for r in results["token_refresh"]) + sum(r["non_2xx"] for r in results["tenants"])
    bad += sum(r["token_requests"] != 1 for r in results["token_refresh"])
    bad += sum(r["listed"] != r["users"] for r in results["delinea_listing"])
    return 2 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
