"""The work queue's background tasks, for the app's lifespan: the backlog read for metrics and /status
every `directory.work_refresh_every` seconds, and the webhook sender (gateway/backed/manual/webhook.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import structlog

from gateway.apps import webhook_apps
from gateway.backed.manual.service import WorkService
from gateway.backed.manual.webhook import WebhookSender
from gateway.runtime import Runtime

log = structlog.get_logger("scim_gateway")


@contextlib.asynccontextmanager
async def working(runtime: Runtime) -> AsyncIterator[None]:
    """Run the work queue's tasks while the block runs (nothing without manual apps)."""
    service, directory = runtime.work, runtime.config.directory
    if service is None or directory is None:
        yield
        return
    tasks = [asyncio.create_task(refresh_forever(service, directory.work_refresh_every))]
    hooks = webhook_apps(runtime.config)
    session = None
    if hooks:
        session = aiohttp.ClientSession(raise_for_status=False)
        sender = WebhookSender(service.items, hooks, session, service.events)
        sender.outcomes = service.notifications  # one dict: the metrics read what the sender counts
        tasks.append(asyncio.create_task(sender.run_forever()))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if session is not None:
            await session.close()


async def refresh_forever(service: WorkService, every: float) -> None:
    while True:
        try:
            await service.refresh()
        except Exception as exc:  # the database is down: keep the last figures, try again next time
            log.warning("work_backlog_unread", error=type(exc).__name__)
        await asyncio.sleep(every)
