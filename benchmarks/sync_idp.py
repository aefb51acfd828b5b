"""An Entra-shaped IdP's initial provisioning cycle, as the sync benchmark's client (benchmarks/sync.py).

Per user, in order, as Microsoft Entra's provisioning service does on a first
cycle (see tests/idp_traffic.py for the sourced request shapes):

1. `GET /Users?filter=userName+eq+"..."` (expects no match);
2. `POST /Users` with Entra's standard attributes (core and enterprise);
3. `PATCH /Users/{id}` of a few attributes (Entra's capitalised ops), as its
   follow-up update of reference and late-mapped attributes does.

`workers` users are in flight at once (Entra's provisioning runs several
threads per job). A 429 with Retry-After is waited out and resent, as Entra
does; any other failure (a 429 without Retry-After, a 5xx, a transport error)
is what puts an Entra job into quarantine when it repeats: it is counted as
IdP-visible and resent after a second, so the sync still completes.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import orjson

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BODY_HEADERS = {"Content-Type": "application/scim+json; charset=utf-8"}
#: Resends of one step after failures that are not a 429 with Retry-After, before the user is given up.
MAX_FAILED_TRIES = 5
OPERATIONS = ("lookup", "create", "patch")


@dataclass
class CallLog:
    """What the IdP saw: latency per operation, statuses, and the failures it would count against the app."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    statuses: Counter[str] = field(default_factory=Counter)
    #: "429+Retry-After" (allowed), "429" (no Retry-After), "503", "transport", ... -> count.
    failures: Counter[str] = field(default_factory=Counter)
    gave_up: int = 0

    def note(self, operation: str, seconds: float, status: str) -> None:
        self.latencies[operation].append(seconds)
        self.statuses[f"{operation} {status}"] += 1


def user_name(run: str, index: int) -> str:
    return f"sync.{run}.{index:06d}@bench.example"


def create_body(run: str, index: int) -> dict[str, Any]:
    """Entra's create body (tests/idp_traffic.py `_ENTRA_CREATE_USER_BODY`) for user `index`."""
    name = user_name(run, index)
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": f"{run}-{index:06d}",
        "userName": name,
        "active": True,
        "displayName": f"Sync User{index:06d}",
        "emails": [{"primary": True, "type": "work", "value": name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"Sync User{index:06d}", "familyName": f"User{index:06d}", "givenName": "Sync"},
        "roles": [],
        ENTERPRISE: {"employeeNumber": str(100000 + index), "department": "Engineering"},
    }


def patch_body(index: int) -> dict[str, Any]:
    """Entra's follow-up update: title, department and the manager (a reference, set once both users exist)."""
    return {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": "title", "value": "Engineer"},
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Platform"},
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": f"manager-{index % 50}"},
        ],
    }


class IdpClient:
    """One IdP's provisioning job against one app's SCIM base URL."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, log: CallLog) -> None:
        self.session = session
        self.base_url = base_url
        self.auth = {"Authorization": f"Bearer {token}"}
        self.log = log

    async def call(self, operation: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send one step until it succeeds, a 429 with Retry-After waited out; (status, JSON) of the success.

        Raises RuntimeError after MAX_FAILED_TRIES other failures (the IdP gives this user up).
        """
        headers = {**self.auth, **(BODY_HEADERS if body is not None else {})}
        data = orjson.dumps(body) if body is not None else None
        failed = 0
        while True:
            started = time.monotonic()
            try:
                async with self.session.request(method, self.base_url + path, data=data, headers=headers) as answer:
                    payload = await answer.read()
                    status, retry_after = answer.status, answer.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError):
                status, retry_after, payload = 0, None, b""
            self.log.note(operation, time.monotonic() - started, str(status or "transport"))
            if 200 <= status < 300:
                return status, orjson.loads(payload) if payload else None
            if status == 429 and retry_after is not None:
                self.log.failures["429+Retry-After"] += 1
                await asyncio.sleep(float(retry_after))
                continue
            self.log.failures[str(status or "transport")] += 1
            failed += 1
            if failed >= MAX_FAILED_TRIES:
                raise RuntimeError(f"{method} {path}: {status} after {failed} tries")
            await asyncio.sleep(1.0)

    async def provision(self, run: str, index: int) -> None:
        """Entra's initial cycle for one user: lookup, create, patch."""
        query = quote_plus(f'userName eq "{user_name(run, index)}"')
        _, found = await self.call("lookup", "GET", f"/Users?filter={query}")
        if found and found.get("totalResults"):
            raise RuntimeError(f"user {index} already exists")  # a fresh run's users never do
        _, created = await self.call("create", "POST", "/Users", create_body(run, index))
        await self.call("patch", "PATCH", f"/Users/{created['id']}", patch_body(index))


async def sync_users(client: IdpClient, run: str, users: int, workers: int) -> None:
    """Provision users 0..users-1 with `workers` in flight at once; a user given up is counted, not fatal."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(users):
        queue.put_nowait(index)

    async def worker() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            try:
                await client.provision(run, index)
            except RuntimeError:
                client.log.gave_up += 1

    await asyncio.gather(*(worker() for _ in range(workers)))


async def light_calls(client: IdpClient, run: str, rate: float, stop: asyncio.Event) -> None:
    """A neighbour's light traffic until `stop`: one lookup every 1/`rate` s (open loop, each on time)."""
    interval, due, pending = 1.0 / rate, time.monotonic(), set()
    index = 0
    while not stop.is_set():
        index += 1
        query = quote_plus(f'userName eq "{user_name(run, index)}"')
        task = asyncio.ensure_future(client.call("lookup", "GET", f"/Users?filter={query}"))
        pending.add(task)
        task.add_done_callback(pending.discard)
        due += interval
        await asyncio.sleep(max(0.0, due - time.monotonic()))
    await asyncio.gather(*pending, return_exceptions=True)
