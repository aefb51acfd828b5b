"""Where a directory read's CPU goes, layer by layer, in one process (no HTTP): what `benchmarks.directory`
cannot separate.

    python -m benchmarks.directory_layers [--reads 800] [--rounds 5]

On SQLite (a temp file) and on a real PostgreSQL (benchmarks/postgres.py), with one user of Okta's
attribute set recorded, the CPU time (user + system, every thread of this process: aiosqlite's too) per
call of:

- `lookup`: Resources.by_vendor_id, what a GET of a directory-backed app adds (pool checkout, one
  SELECT, decrypt and decode);
- `held connection`: the same SELECT through SQLAlchemy on a connection kept open (no pool checkout);
- `driver` (PostgreSQL): the same SELECT through asyncpg alone, the floor under SQLAlchemy;
- `write`: record_intent + confirm, the two transactions a PATCH adds.

Each figure is the least of `--rounds` rounds (a neighbour's burst spoils a round, not the figure).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop
from pydantic import SecretStr
from sqlalchemy import text

from benchmarks.directory_writes import okta_user
from benchmarks.postgres import postgres_server
from gateway.config import DirectoryConfig, DirectoryEncryptionConfig
from gateway.directory.keys import generate_key
from gateway.directory.records import IntentOp, Origin, State
from gateway.directory.resources import USER
from gateway.directory.store import Directory, open_directory
from gateway.directory.urls import database_url

VENDOR_ID = "usr_layers"
_SELECT = "SELECT * FROM resources WHERE tenant = $1 AND app = $2 AND kind = $3 AND vendor_id = $4"


def _state(title: str) -> State:
    user = okta_user("ada@example.com")
    held = {key: user[key] for key in ("name", "nickName", "title", "phoneNumbers", "locale")}
    return State("ada@example.com", "00uada", {**held, "title": title}, True, {"displayName": "Ada Lovelace"})


async def _cpu_per_call(call: Callable[[], Awaitable[object]], calls: int, rounds: int) -> float:
    """Least CPU microseconds per call over `rounds` rounds of `calls` calls (after a warm-up)."""
    for _ in range(min(50, calls)):
        await call()
    best = float("inf")
    for _ in range(rounds):
        before = os.times()
        for _ in range(calls):
            await call()
        after = os.times()
        used = (after.user + after.system) - (before.user + before.system)
        best = min(best, used * 1e6 / calls)
    return round(best, 1)


async def measure(url: str, reads: int, rounds: int) -> dict[str, float]:
    """The layers' CPU per call against the database at `url` (an empty one: the schema is created)."""
    keys = DirectoryEncryptionConfig(keys=[SecretStr(generate_key())], index_key=SecretStr(generate_key()))
    config = DirectoryConfig(url=SecretStr(database_url(url)), encryption=keys)
    directory: Directory = await open_directory(config)
    try:
        resources = directory.resources("bench", "orca")
        entry = await resources.insert(USER, _state("Analyst"), vendor_id=VENDOR_ID, origin=Origin.GATEWAY)
        found: dict[str, float] = {}

        async def lookup() -> object:
            return await resources.by_vendor_id(USER, VENDOR_ID)

        found["lookup"] = await _cpu_per_call(lookup, reads, rounds)
        query = text("SELECT * FROM resources WHERE tenant = :t AND app = :a AND kind = :k AND vendor_id = :v")
        parameters = {"t": "bench", "a": "orca", "k": USER, "v": VENDOR_ID}
        async with directory.engine.connect() as connection:

            async def held() -> object:
                return (await connection.execute(query, parameters)).all()

            found["held connection"] = await _cpu_per_call(held, reads, rounds)
        if directory.engine.dialect.name == "postgresql":
            raw = await directory.engine.raw_connection()
            try:
                driver = raw.driver_connection
                assert driver is not None

                async def fetch() -> object:
                    return await driver.fetch(_SELECT, "bench", "orca", USER, VENDOR_ID)

                found["driver"] = await _cpu_per_call(fetch, reads, rounds)
            finally:
                raw.close()
        version, counter = entry.version, 0

        async def write() -> object:
            nonlocal version, counter
            counter += 1
            desired = _state(f"Analyst {counter}")
            pending = await resources.record_intent(
                USER, IntentOp.UPDATE, desired, id=entry.id, expected_version=version
            )
            assert pending.pending is not None
            confirmed = await resources.confirm(USER, entry.id, pending.pending, state=desired)
            assert confirmed is not None
            version = confirmed.version
            return confirmed

        found["write"] = await _cpu_per_call(write, max(1, reads // 8), rounds)
        return found
    finally:
        await directory.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.directory_layers", description=__doc__.split("\n")[0])
    parser.add_argument("--reads", type=int, default=800, help="reads per round (writes: an eighth)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the least CPU counts")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="scim-bench-layers-") as work:
        results["sqlite"] = uvloop.run(measure(f"sqlite:///{Path(work) / 'directory.db'}", args.reads, args.rounds))
    with postgres_server(durable=True) as server:
        results["postgresql"] = uvloop.run(measure(server.url("postgres"), args.reads, args.rounds))
    print("| database | lookup µs | SELECT on a held connection µs | asyncpg alone µs | intent + confirm µs |")
    print("|---|--:|--:|--:|--:|")
    for name, found in results.items():
        driver = f"{found['driver']:,.0f}" if "driver" in found else "-"
        print(
            f"| {name} | {found['lookup']:,.0f} | {found['held connection']:,.0f} | {driver} | {found['write']:,.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
