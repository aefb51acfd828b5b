"""The directory benchmark's seeding and its writes: one user created, then PATCHes one after another.

Writes go one at a time over one connection (aiohttp, keep-alive), each with a
value the user did not have, so every PATCH reaches the vendor (or the
directory) instead of being skipped as a no-op; the latency is the client's
wall time per PATCH, the CPU the gateway process's over all of them.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from dataclasses import asdict, dataclass

import aiohttp
import orjson

from benchmarks.processes import Server
from benchmarks.scenarios import PATCH_SCHEMA, USER_SCHEMA

WARMUP_WRITES = 10
_HEADERS = {"Content-Type": "application/scim+json", "Accept": "application/scim+json"}


@dataclass(frozen=True)
class WriteResult:
    attribute: str
    requests: int
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float
    non_2xx: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def okta_user(user_name: str) -> dict[str, object]:
    """Okta's default User attribute set: most of it is more than Orca stores (held by the directory)."""
    return {
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "externalId": f"00u{secrets.token_hex(8)}",
        "name": {"givenName": "Ada", "familyName": "Lovelace", "middleName": "Byron"},
        "displayName": "Ada Lovelace",
        "nickName": "ada",
        "title": "Analyst",
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "phoneNumbers": [{"value": "+44 20 7946 0000", "type": "work"}],
        "locale": "en-GB",
        "active": True,
    }


def create_user(scim_root: str, token: str) -> str:
    """POST one user to `scim_root` (a gateway's SCIM root URL); its id. RuntimeError unless 201."""

    async def create() -> str:
        headers = {**_HEADERS, "Authorization": f"Bearer {token}"}
        body = orjson.dumps(okta_user(f"bench-{secrets.token_hex(4)}@example.com"))
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{scim_root}/Users", data=body, headers=headers) as answer,
        ):
            text = await answer.read()
            if answer.status != 201:
                raise RuntimeError(f"creating the benchmark user answered {answer.status}: {text[:500]!r}")
            return str(orjson.loads(text)["id"])

    return asyncio.run(create())


def patch_body(attribute: str, value: str) -> bytes:
    """A PatchOp replacing `attribute` (a top-level User attribute) with `value`."""
    operation = {"op": "replace", "path": attribute, "value": value}
    return orjson.dumps({"schemas": [PATCH_SCHEMA], "Operations": [operation]})


def patch_many(server: Server, url: str, token: str, attribute: str, count: int) -> WriteResult:
    """`count` PATCHes of `attribute` at `url`, one after another, after WARMUP_WRITES uncounted ones."""

    async def run() -> WriteResult:
        headers = {**_HEADERS, "Authorization": f"Bearer {token}"}
        tag = secrets.token_hex(3)
        latencies: list[float] = []
        failed = 0
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(index: int) -> tuple[float, bool]:
                body = patch_body(attribute, f"{attribute} {tag} {index}")
                started = time.perf_counter()
                async with session.patch(url, data=body, headers=headers) as answer:
                    await answer.read()
                    return time.perf_counter() - started, 200 <= answer.status < 300

            for index in range(WARMUP_WRITES):
                failed += not (await one(-index - 1))[1]
            cpu_before = server.cpu_seconds()
            for index in range(count):
                seconds, ok = await one(index)
                latencies.append(seconds)
                failed += not ok
            cpu = server.cpu_seconds() - cpu_before
        return WriteResult(
            attribute=attribute,
            requests=count,
            p50_ms=round(statistics.median(latencies) * 1000, 3),
            p99_ms=round(_percentile(latencies, 0.99) * 1000, 3),
            cpu_us_per_request=round(cpu * 1e6 / count, 1),
            non_2xx=failed,
        )

    return asyncio.run(run())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
