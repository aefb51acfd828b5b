"""An IdP's first full sync at the vendor's budget: `python -m benchmarks.sync [--users 5000] [--replicas 3]`.

Per profile (a SCIM pass-through app, Orca REST, Delinea REST), an
Entra-shaped client (benchmarks/sync_idp.py) provisions `--users` users
through `--replicas` `scim-gateway serve` processes sharing one Redis (the
throttle) and one PostgreSQL (the directory) into a vendor simulator that
refuses (429) whatever exceeds its rate (benchmarks/sync_vendor.py); the
gateway's `upstream.rate` is that rate. Meanwhile the tenant's other app and
another tenant make light lookups (fairness). Reported per profile: total
time against the bound the vendor's limit sets (vendor calls / rate), the
share of the vendor's budget used, vendor 429s, vendor calls per IdP
operation, IdP-visible failures by status, p50/p99 of the IdP's calls, and
the neighbours' p99. Markdown on stdout, JSON in benchmarks/results/sync.json.
Exit status 2 when a goal is missed (see GOALS).
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
from collections import Counter
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson

from benchmarks.processes import REPO_ROOT
from benchmarks.sync_idp import OPERATIONS, CallLog, IdpClient, light_calls, sync_users
from benchmarks.sync_stack import (
    OTHER_APP,
    OTHER_TENANT,
    PROFILES,
    SYNC_APP,
    TENANT,
    SyncStack,
    Tuning,
    default_burst,
    running,
    shared_env,
)

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "sync.json"
#: The issue's goals: budget used, vendor 429s, IdP-visible failures (other than 429 + Retry-After), time vs bound.
GOALS = {"budget_used": 0.95, "vendor_429": 0, "idp_failures": 0, "time_over_bound": 0.05}
#: The IdP's audit operation names (gateway/inbound/recording.py) for each step of the cycle.
AUDIT_OPERATIONS = {"lookup": ("list", "search"), "create": ("create",), "patch": ("patch",)}
NEIGHBOUR_RATE = 3.0


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def throttle_fallbacks(session: aiohttp.ClientSession, stack: SyncStack) -> int:
    """Reservations the replicas made in their local share because Redis failed or was slow, so far."""
    total = 0.0
    for gateway in stack.gateways:
        async with session.get(gateway.url + "/metrics") as answer:
            for line in (await answer.text()).splitlines():
                if line.startswith("scim_gateway_throttle_fallbacks_total"):
                    total += float(line.rsplit(" ", 1)[1])
    return int(total)


async def vendor_calls(session: aiohttp.ClientSession, stack: SyncStack) -> Counter[str]:
    async with session.get(stack.vendor.url + "/_sim/calls") as answer:
        return Counter((await answer.json())["calls"])


def audited(files: list[Path]) -> dict[str, dict[str, Any]]:
    """Per audit operation of the synced app: requests, vendor calls they made, and the vendor's 429s among them."""
    found: dict[str, dict[str, Any]] = {}
    for path in files:
        with contextlib.suppress(FileNotFoundError):
            for line in path.read_bytes().splitlines():
                record = orjson.loads(line)
                if record.get("app") != SYNC_APP or record.get("tenant") != TENANT:
                    continue
                entry = found.setdefault(record["operation"], {"requests": 0, "vendor_calls": 0, "vendor_429": 0})
                entry["requests"] += 1
                entry["vendor_calls"] += record["upstream_calls"]
                entry["vendor_429"] += record["upstream_statuses"].count(429)
    return found


async def neighbours_calling(
    session: aiohttp.ClientSession, stack: SyncStack, run: str, logs: dict[str, CallLog], during: Awaitable[Any]
) -> Any:
    """The tenant's other app and another tenant each look users up at NEIGHBOUR_RATE (spread over the
    replicas) until `during` is done; its result."""
    stop = asyncio.Event()
    callers = {"same_tenant": (TENANT, OTHER_APP), "other_tenant": (OTHER_TENANT, OTHER_APP)}
    replicas = len(stack.gateways)
    tasks = [
        asyncio.ensure_future(
            light_calls(
                IdpClient(session, stack.scim_url(r, tenant, app), stack.tokens[tenant], logs[name]),
                f"{run}{name[0]}{r}",
                NEIGHBOUR_RATE / replicas,
                stop,
            )
        )
        for name, (tenant, app) in callers.items()
        for r in range(replicas)
    ]
    try:
        return await during
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def measure(stack: SyncStack, users: int, workers: int, tuning: Tuning, alone_seconds: float) -> dict[str, Any]:
    """One sync of `users` users, spread over the replicas, beside the neighbours' light calls (and those
    calls alone for `alone_seconds` first, to compare with)."""
    run = secrets.token_hex(3)
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        alone = {"same_tenant": CallLog(), "other_tenant": CallLog()}
        await neighbours_calling(session, stack, run + "a", alone, asyncio.sleep(alone_seconds))
        before = await vendor_calls(session, stack)
        fallbacks_before = await throttle_fallbacks(session, stack)
        sync_log, neighbours = CallLog(), {"same_tenant": CallLog(), "other_tenant": CallLog()}
        replicas = len(stack.gateways)
        # The IdP's workers spread over the replicas, as behind a load balancer.
        share, extra = divmod(users, replicas)
        syncs = [
            sync_users(
                IdpClient(session, stack.scim_url(r, TENANT, SYNC_APP), stack.tokens[TENANT], sync_log),
                f"{run}r{r}",
                share + (r < extra),
                max(1, workers // replicas) + (r < workers % replicas),
            )
            for r in range(replicas)
        ]
        started = time.monotonic()
        await neighbours_calling(session, stack, run + "s", neighbours, asyncio.gather(*syncs))
        seconds = time.monotonic() - started
        await asyncio.sleep(0.5)  # audit writers flush every 20 ms
        after = await vendor_calls(session, stack)
        fallbacks = await throttle_fallbacks(session, stack) - fallbacks_before
    calls = after - before
    result = summary(calls, audited(stack.audit_files), sync_log, neighbours, seconds, users, tuning)
    result["throttle_fallbacks"] = fallbacks
    for name, log in alone.items():
        result["neighbours"][name]["alone_p99_ms"] = round(1000 * percentile(log.latencies["lookup"], 0.99), 1)
        result["neighbours"][name]["alone_p50_ms"] = round(1000 * percentile(log.latencies["lookup"], 0.5), 1)
    return result


def summary(
    calls: Counter[str],
    audit: dict[str, dict[str, Any]],
    sync_log: CallLog,
    neighbours: dict[str, CallLog],
    seconds: float,
    users: int,
    tuning: Tuning,
) -> dict[str, Any]:
    """The run's figures. The vendor admits a full bucket at once, then `rate` a second: `admitted` calls
    cannot take less than (admitted - burst) / rate seconds (the bound), and in `seconds` the vendor
    could have admitted burst + rate * seconds (the budget)."""
    refused = sum(count for key, count in calls.items() if key.endswith(" 429"))
    admitted = sum(calls.values()) - refused
    bound = max(0, admitted - tuning.vendor_burst) / tuning.rate
    failures = {status: count for status, count in sync_log.failures.items() if status != "429+Retry-After"}
    per_operation = {}
    for operation in OPERATIONS:
        entry = {"requests": 0, "vendor_calls": 0, "vendor_429": 0}
        for name in AUDIT_OPERATIONS[operation]:
            entry = {key: value + audit.get(name, {}).get(key, 0) for key, value in entry.items()}
        latencies = sync_log.latencies[operation]
        per_operation[operation] = {
            "requests": entry["requests"],
            "vendor_calls_per_request": round(entry["vendor_calls"] / entry["requests"], 3) if entry["requests"] else 0,
            "p50_ms": round(1000 * percentile(latencies, 0.5), 1),
            "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        }
    in_requests = sum(entry["vendor_calls"] for entry in audit.values())
    result = {
        "users": users,
        "seconds": round(seconds, 2),
        "vendor_calls": admitted,
        "vendor_calls_outside_requests": max(0, sum(calls.values()) - in_requests),  # token grants, health checks
        "vendor_calls_by_status": dict(sorted(calls.items())),
        "bound_seconds": round(bound, 2),
        "time_over_bound": round(seconds / bound - 1, 4) if bound else None,
        "budget_used": round(admitted / (tuning.vendor_burst + tuning.rate * seconds), 4) if seconds else None,
        "vendor_429": refused,
        "idp_failures": failures,
        "idp_429_with_retry_after": sync_log.failures.get("429+Retry-After", 0),
        "users_given_up": sync_log.gave_up,
        "operations": per_operation,
        "neighbours": {
            name: {
                "requests": sum(len(values) for values in log.latencies.values()),
                "p50_ms": round(1000 * percentile(log.latencies["lookup"], 0.5), 1),
                "p99_ms": round(1000 * percentile(log.latencies["lookup"], 0.99), 1),
                "failures": dict(log.failures),
            }
            for name, log in neighbours.items()
        },
    }
    result["goals_met"] = goals_met(result)
    return result


def goals_met(result: dict[str, Any]) -> dict[str, bool]:
    return {
        "budget_used": (result["budget_used"] or 0) >= GOALS["budget_used"],
        "vendor_429": result["vendor_429"] <= GOALS["vendor_429"],
        "idp_failures": sum(result["idp_failures"].values()) <= GOALS["idp_failures"],
        "time_over_bound": result["time_over_bound"] is not None
        and result["time_over_bound"] <= GOALS["time_over_bound"],
    }


@contextlib.contextmanager
def scratch_dir(keep: bool) -> Iterator[str]:
    """A temporary directory for configs, audit files and server logs; kept (and named) with `keep`."""
    if not keep:
        with tempfile.TemporaryDirectory(prefix="scim-sync-") as scratch:
            yield scratch
        return
    scratch = tempfile.mkdtemp(prefix="scim-sync-")
    print(f"logs, configs and audit files kept in {scratch}", file=sys.stderr)
    yield scratch


@contextlib.contextmanager
def shared_servers(work: Path) -> Iterator[tuple[str, Any]]:
    """A real redis-server and PostgreSQL for the run (the tests' helpers: they say how to install what is missing)."""
    from benchmarks.postgres import postgres_server
    from tests.throttle.redis_server import redis_server

    with redis_server(work) as redis, postgres_server() as postgres:
        yield redis.url, postgres


async def fresh_database(postgres: Any) -> str:
    """A new database on `postgres` for one profile's directory; its SQLAlchemy URL."""
    name = f"sync_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(host="127.0.0.1", port=postgres.port, user="postgres", password=postgres.password)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return str(postgres.url(name))


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "meta": {
            "users": args.users,
            "workers": args.workers,
            "replicas": args.replicas,
            "rate": args.rate,
            "command": " ".join(["python -m benchmarks.sync", *args.argv]),
        },
        "profiles": {},
    }
    vendor_burst = default_burst(args.rate)
    upstream_burst = args.upstream_burst or max(1, vendor_burst // 2)
    tuning = Tuning(args.rate, vendor_burst, upstream_burst, args.concurrency, args.orca_list_cache)
    results["meta"]["tuning"] = tuning.__dict__
    with scratch_dir(args.keep) as scratch, shared_servers(Path(scratch)) as (redis, pg):
        for profile in args.profiles:
            work = Path(scratch) / profile
            work.mkdir()
            env = shared_env(redis, asyncio.run(fresh_database(pg)))
            print(f"{profile}: {args.users} users, {args.replicas} replicas, {args.rate:g} req/s", file=sys.stderr)
            with running(profile, tuning, args.replicas, env, work) as stack:
                results["profiles"][profile] = asyncio.run(measure(stack, args.users, args.workers, tuning, args.alone))
    return results


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        f"`{meta['command']}`: {meta['users']} users, {meta['workers']} IdP workers, {meta['replicas']} replicas, "
        f"vendor limit {meta['rate']:g} req/s (gateway `upstream.rate` the same)",
        "",
        "| profile | time s | bound s | over bound | budget used | vendor 429s | Redis fallbacks "
        "| calls/lookup | calls/create | calls/patch | IdP failures | IdP 429+RA "
        "| lookup p50/p99 ms | create p50/p99 ms | patch p50/p99 ms "
        "| neighbour p99 ms alone → during sync (same tenant; other tenant) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in results["profiles"].items():
        ops = row["operations"]
        latency = [f"{ops[op]['p50_ms']:.0f} / {ops[op]['p99_ms']:.0f}" for op in OPERATIONS]
        calls = [f"{ops[op]['vendor_calls_per_request']:.2f}" for op in OPERATIONS]
        failures = ", ".join(f"{status}: {count}" for status, count in row["idp_failures"].items()) or "0"
        neighbour = row["neighbours"]
        over = "n/a" if row["time_over_bound"] is None else f"{100 * row['time_over_bound']:+.1f}%"
        lines.append(
            f"| {name} | {row['seconds']:.1f} | {row['bound_seconds']:.1f} | {over} "
            f"| {100 * row['budget_used']:.1f}% | {row['vendor_429']} | {row.get('throttle_fallbacks', 0)} "
            f"| {' | '.join(calls)} | {failures} "
            f"| {row['idp_429_with_retry_after']} | {' | '.join(latency)} "
            f"| {neighbour['same_tenant']['alone_p99_ms']:.0f} → {neighbour['same_tenant']['p99_ms']:.0f}; "
            f"{neighbour['other_tenant']['alone_p99_ms']:.0f} → {neighbour['other_tenant']['p99_ms']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=5000, help="users the IdP provisions per profile")
    parser.add_argument("--workers", type=int, default=16, help="IdP requests in flight (Entra: 8 to 32)")
    parser.add_argument("--replicas", type=int, default=3, help="scim-gateway serve processes sharing Redis")
    parser.add_argument("--rate", type=float, default=100.0, help="the vendor's limit, req/s (= upstream.rate)")
    parser.add_argument("--upstream-burst", type=int, default=0, help="upstream.burst (default: half the vendor's)")
    parser.add_argument("--concurrency", type=int, default=None, help="upstream.concurrency (default: none)")
    parser.add_argument(
        "--orca-list-cache", type=float, default=None, help="Orca's options.list_cache_seconds (default: its own)"
    )
    parser.add_argument("--profiles", default=",".join(PROFILES), help=f"comma-separated, of {', '.join(PROFILES)}")
    parser.add_argument("--alone", type=float, default=5.0, help="seconds of neighbour calls before the sync")
    parser.add_argument("--keep", action="store_true", help="keep the logs, configs and audit files")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON results")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.profiles = [name for name in args.profiles.split(",") if name]
    if not set(args.profiles) <= set(PROFILES) or args.users < 1 or args.replicas < 1 or args.workers < 1:
        parser.error(f"--profiles takes {', '.join(PROFILES)}; --users, --replicas, --workers positive")
    results = run(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    missed = [
        f"{name}: {goal}"
        for name, row in results["profiles"].items()
        for goal, ok in row["goals_met"].items()
        if not ok
    ]
    if missed:
        print("goals missed: " + "; ".join(missed), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
