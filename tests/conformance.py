"""Run the independent SCIM conformance checker (scim2-tester) against a SCIM base URL.

scim2-tester drives a synchronous scim2-client, so callers inside an event
loop that also serves the gateway run `check` in a worker thread
(`asyncio.to_thread`), leaving the loop free to answer.
"""

from __future__ import annotations

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import CheckResult, Status, check_server

#: Results that break an RFC MUST (ERROR) or open a security hole (CRITICAL).
FAILING = frozenset({Status.ERROR, Status.CRITICAL})


def check(base_url: str, token: str) -> list[CheckResult]:
    """Every check scim2-tester runs against the SCIM server at `base_url`."""
    headers = {"Authorization": f"Bearer {token}"}
    with Client(base_url=base_url, headers=headers, timeout=30) as http:
        return check_server(SyncSCIMClient(http))


def failing(results: list[CheckResult]) -> list[str]:
    """The failing checks, one readable line each (empty when the server conforms)."""
    return [
        f"{result.status.name} {result.resource_type or '-'}: {result.title}: {result.reason}"
        for result in results
        if result.status in FAILING
    ]


def exercised(results: list[CheckResult]) -> set[str]:
    """The resource types at least one check succeeded on (so a pass is not vacuous)."""
    return {result.resource_type for result in results if result.status is Status.SUCCESS and result.resource_type}


def failures(base_url: str, token: str) -> list[str]:
    """`failing(check(...))`: the failing checks against `base_url`."""
    return failing(check(base_url, token))
