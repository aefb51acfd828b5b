"""Periodic connectivity checks of every app, for /status and `scim_gateway_app_up`.

Checks run in the background with a timeout each and never affect readiness:
a vendor being down is the vendor's outage, not a reason to pull the pod.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog

from gateway.clock import SYSTEM_CLOCK, Clock
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import ConnectorError
from gateway.outbound.vendor_text import scrub
from gateway.runtime import AppRuntime, Runtime

log = structlog.get_logger("scim_gateway.health")
CHECK_TIMEOUT = 10.0
#: Checks in flight at once: with thousands of apps, all at once would hold the event loop for
#: seconds right after start-up (and burst every vendor); a few at a time costs serving nothing.
CONCURRENT_CHECKS = 16
#: The longest detail kept for a failed check (the gateway's words plus a vendor excerpt fit).
DETAIL_LIMIT = 500


async def check_app(app: AppRuntime, clock: Clock = SYSTEM_CLOCK) -> None:
    """Run one app's connectivity check and store the result on `app.health` (`checked_at`: the clock's wall time)."""
    try:
        # A budget of its own (the app's request deadline from now): no inbound request asked for this check.
        budget = CallBudget.starting_now(app.guard.clock, app.guard.retry.deadline)
        await asyncio.wait_for(app.connector.check(budget), CHECK_TIMEOUT)
        ok, detail = True, "ok"
    except ConnectorError as exc:  # shown in a log line and on /status: never the app's secrets
        ok, detail = False, scrub(exc.detail, app.secrets, DETAIL_LIMIT)
    except TimeoutError:
        ok, detail = False, f"no answer within {CHECK_TIMEOUT:.0f}s"
    except Exception as exc:  # a connector bug must not stop the checks of every other app
        ok, detail = False, f"the check failed unexpectedly ({type(exc).__name__})"
    if ok != app.health.ok or not app.health.checked:
        log.info("app_health", tenant=app.tenant, app=app.name, vendor=app.vendor, ok=ok, detail=detail)
    app.health.checked, app.health.ok, app.health.detail = True, ok, detail
    app.health.checked_at = clock.wall()


async def check_forever(runtime: Runtime, interval: float, clock: Clock = SYSTEM_CLOCK) -> None:
    """Check every app now, then `interval` seconds after each round ends, until cancelled.

    CONCURRENT_CHECKS run at a time; the waits go through `clock`.
    """
    slots = asyncio.Semaphore(CONCURRENT_CHECKS)

    async def bounded(app: AppRuntime) -> None:
        async with slots:
            await check_app(app, clock)

    while True:
        await asyncio.gather(*(bounded(app) for app in runtime.apps()), return_exceptions=True)
        await clock.sleep(interval)


@contextlib.asynccontextmanager
async def health_checks(
    runtime: Runtime, interval: float, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[asyncio.Task[None]]:
    """Run `check_forever` in a background task for the duration of the block; cancel it on exit."""
    task = asyncio.create_task(check_forever(runtime, interval, clock), name="health-checks")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
