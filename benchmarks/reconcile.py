"""Reconcile N accounts at a rate-limited vendor: time against the vendor's bound, and memory growth.

`python -m benchmarks.reconcile` (default 10,000 and 100,000 accounts): for each size, a Delinea
simulator in its own process holds N REST users, serves at most 100 per page and answers 429 (no
Retry-After, as Delinea) above `--rate` requests/s; the gateway's app is limited to that rate
(`upstream: {rate, burst: 1}`), as an operator would configure it. The directory (SQLite in a temporary
directory, or `--database-url`) is loaded first with an entry for most accounts: 1% of the accounts are
orphans, 0.5% drifted, 0.2% reactivated, and 0.5% more entries are missing at the vendor. Then one
reconciliation runs in this process (gateway/reconcile/, the same code as the scheduler and the CLI)
timed, then a second one of the same data under tracemalloc (which slows Python down).

Reported per size: seconds (the first run); the bound the vendor's limit sets (pages / rate: no client
can list faster); their ratio; the CPU this process spent in the run (the gateway's side, its database
driver's thread included: near the seconds, the run is bound by the gateway's CPU rather than the
vendor); the vendor's 429s (none: the app's outbound limit keeps the run within the vendor's); the
peak traced memory growth during the second run (Python allocations, every one since the run
began: the vendor pages, the directory's rows, the aiohttp and SQLAlchemy buffers); and the findings,
checked against what was planted (the command exits 1 if they differ). Flat memory means the same
growth at 10,000 and 100,000 accounts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import secrets
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import structlog
from pydantic import SecretStr
from sqlalchemy import insert

from benchmarks.processes import free_port, start_server, stop_server
from gateway.config import parse_config
from gateway.directory.codec import RowCodec
from gateway.directory.crypto import BlindIndex, KeyRing
from gateway.directory.findings import FindingState
from gateway.directory.keys import generate_key
from gateway.directory.records import Origin, State
from gateway.directory.schema import resources
from gateway.directory.store import Directory, open_directory
from gateway.logs import configure_logging
from gateway.reconcile.reconciler import Reconciler
from gateway.runtime import build_runtime

PAGE = 100  # Delinea's page cap (take), and the page the reconciliation asks for
SECRETS = {"BENCH_DELINEA_CLIENT_ID": "bench-gateway", "BENCH_DELINEA_CLIENT_SECRET": secrets.token_urlsafe(24)}


@dataclass
class Result:
    accounts: int
    rate: float
    pages: int
    seconds: float
    cpu_seconds: float
    bound_seconds: float
    ratio: float
    peak_growth_mb: float
    vendor_429s: int
    findings: dict[str, int]
    planted: dict[str, int]
    status: str


@contextlib.contextmanager
def vendor(users: int, rate: float, work: Path) -> Iterator[str]:
    """The Delinea simulator with `users` REST users, 429 above `rate` requests/s (burst: one second's worth)."""
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.scale_sim", "--port", str(port), "--users", str(users),
               "--rate", str(rate), "--burst", str(max(1, int(rate)))]  # fmt: skip
    server = start_server("delinea", command, port, log_dir=work, ready_path="/_sim/requests", env=SECRETS, timeout=300)
    try:
        yield server.url
    finally:
        stop_server(server)


def config(url: str, database_url: str, keys: dict[str, str], rate: float) -> Any:
    app = {
        "vendor": "delinea", "base_url": url, "allow_insecure_url": True,
        "credentials": {"client_id": SECRETS["BENCH_DELINEA_CLIENT_ID"],
                        "client_secret": SECRETS["BENCH_DELINEA_CLIENT_SECRET"]},
        "upstream": {"rate": rate, "burst": 1, "concurrency": 1},
        "directory": "link",
    }  # fmt: skip
    return parse_config({
        "allow_literal_secrets": True,
        "observability": {"audit": {"file": "/dev/null"}, "metrics_port": None},
        "directory": {"url": database_url, "encryption": {"keys": [keys["key"]], "index_key": keys["index"]}},
        "tenants": {"bench": {"tokens": [{"name": "idp", "sha256": "0" * 64}], "apps": {"delinea": app}}},
    })  # fmt: skip


async def vendor_users(url: str) -> list[tuple[str, str]]:
    """(id, userName) of every REST user the simulator holds (read once, before anything is measured)."""
    async with httpx.AsyncClient(timeout=120) as client:
        state = (await client.get(url + "/_sim/state")).json()
    return [(user["id"], user["userName"]) for user in state["rest"]["users"]]


async def load_directory(directory: Directory, keys: dict[str, str], users: list[tuple[str, str]]) -> dict[str, int]:
    """Entries for the vendor's users (bulk, sealed as the repository seals them), with findings planted."""
    codec = RowCodec(KeyRing([SecretStr(keys["key"])]), BlindIndex(SecretStr(keys["index"])))
    now = datetime.now(UTC)
    every = {"orphan": 100, "drift": 200, "reactivated": 500, "missing": 200}
    planted = dict.fromkeys(every, 0)
    rows = []
    for index, (vendor_id, user_name) in enumerate(users):
        if index % every["orphan"] == 0:
            planted["orphan"] += 1
            continue
        written: dict[str, Any] = {"userName": user_name, "active": True}
        active = True
        if index % every["drift"] == 1:
            written["displayName"] = "Someone Else"
            planted["drift"] += 1
        if index % every["reactivated"] == 3:
            active, written["active"] = False, False
            planted["reactivated"] += 1
        rows.append(_row(codec, vendor_id, State(user_name, active=active, written=written), now))
        if index % every["missing"] == 5:
            planted["missing"] += 1
            rows.append(_row(codec, f"gone-{index}", State(f"gone{index}@bench.example"), now))
    async with directory.engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            await connection.execute(insert(resources), rows[start : start + 2000])
    return planted


def _row(codec: RowCodec, vendor_id: str, state: State, now: datetime) -> dict[str, Any]:
    key = ("bench", "delinea", "User", uuid.uuid4())
    return {
        "tenant": "bench", "app": "delinea", "kind": "User", "id": key[3], "vendor_id": vendor_id,
        "origin": Origin.GATEWAY.value, "version": 1, "created": now, "updated": now,
        **codec.state_columns(key, state), **codec.intent_columns(key, None),
    }  # fmt: skip


async def measure(accounts: int, rate: float, database_url: str | None, work: Path) -> Result:
    keys = {"key": generate_key(), "index": generate_key()}
    url_db = database_url or f"sqlite+aiosqlite:///{work / f'directory-{accounts}.db'}"
    with vendor(accounts, rate, work) as url:
        gateway_config = config(url, url_db, keys, rate)
        assert gateway_config.directory is not None
        directory = await open_directory(gateway_config.directory)
        runtime = build_runtime(gateway_config, "bench", directory)
        try:
            users = await vendor_users(url)
            planted = await load_directory(directory, keys, users)
            del users
            reconciler = Reconciler(runtime, directory)
            started, cpu = time.perf_counter(), time.process_time()
            run = await reconciler.run_now("bench", "delinea", _progress)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            # Memory in a second run of the same data (tracemalloc slows Python down: not the timed run).
            tracemalloc.start()
            traced = await reconciler.run_now("bench", "delinea", _progress)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(file=sys.stderr)
            async with httpx.AsyncClient() as client:
                refused = (await client.get(url + "/_sim/state")).json()["rest"]["rate_limited"]
        finally:
            await runtime.close()
    assert run is not None and traced is not None
    pages = math.ceil(accounts / PAGE)
    bound = pages / rate
    return Result(
        accounts=accounts, rate=rate, pages=pages, seconds=round(seconds, 2), cpu_seconds=round(cpu, 2),
        bound_seconds=round(bound, 2), ratio=round(seconds / bound, 2),
        peak_growth_mb=round(peak / 2**20, 2), vendor_429s=refused,
        findings={state.value: run.counts[state] for state in FindingState}, planted=planted,
        status=run.status.value if traced.counts == run.counts else "the second run found otherwise",
    )  # fmt: skip


def _progress(progress: Any) -> None:
    if progress.pages % 20 == 0:
        print(f"\r  {progress.accounts:,} / {progress.total or 0:,} accounts", end="", file=sys.stderr, flush=True)


def markdown(results: list[Result]) -> str:
    lines = [
        "| accounts | rate limit (req/s) | pages | seconds | bound: pages / rate (s) | ratio | gateway CPU s |"
        " peak memory growth MB | vendor 429s | orphan / drift / missing / reactivated |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--|",
    ]
    for r in results:
        found = " / ".join(str(r.findings[state]) for state in ("orphan", "drift", "missing", "reactivated"))
        lines.append(
            f"| {r.accounts:,} | {r.rate:g} | {r.pages:,} | {r.seconds} | {r.bound_seconds} | {r.ratio} |"
            f" {r.cpu_seconds} | {r.peak_growth_mb} | {r.vendor_429s} | {found} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default="10000,100000", help="sizes, comma-separated (default 10000,100000)")
    parser.add_argument("--rate", type=float, default=50.0, help="the vendor's (and the app's) requests/s")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--output", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    configure_logging("WARNING")  # stdout is the table
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    results = []
    with tempfile.TemporaryDirectory() as work:
        for accounts in (int(size) for size in args.accounts.split(",")):
            print(f"reconciling {accounts:,} accounts at {args.rate:g} requests/s", file=sys.stderr)
            results.append(asyncio.run(measure(accounts, args.rate, args.database_url, Path(work))))
    print(markdown(results))
    if args.output is not None:
        args.output.write_text(json.dumps([asdict(result) for result in results], indent=2))
    wrong = [r for r in results if r.status != "succeeded" or r.findings != r.planted]
    for r in wrong:
        print(f"findings differ from what was planted: {r.findings} != {r.planted} ({r.status})", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
