"""Announcing new work items of manual apps to a webhook (a ticketing system), off the request path.

The item is in the database before anything is sent (it committed with the
IdP's write), with its notification `pending`: the webhook is only a
notification, and what it has not yet received is read from the database, so a
restart resumes deliveries where they stopped. Delivery:

    POST <webhook.url>   {"event": "work_item.opened", "workItem": {...}}   (the admin API's item JSON)
    Content-Type: application/json
    X-Scim-Gateway-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed with webhook.secret>
    X-Scim-Gateway-Delivery: <the item's id>   (the same on every retry: the receiver can drop repeats)

Any 2xx is delivered (`sent`). Anything else (another status, a timeout, a
refused connection) is retried after base_delay, doubling up to max_delay,
until max_attempts, then `failed` (the item stays open and listed; only the
announcement was given up). Before sending, a process leases the item for the
length of one attempt, so replicas do not announce it twice at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import Mapping
from datetime import timedelta

import aiohttp
import orjson
import structlog

from gateway.backed.manual.events import WorkEvents
from gateway.backed.manual.service import render
from gateway.config import WebhookConfig
from gateway.directory.errors import DirectoryError
from gateway.directory.work import WorkItem, WorkItems

log = structlog.get_logger("scim_gateway")
#: Seconds between looks at the database when nothing wakes the sender (retries falling due, other replicas' items).
IDLE = 5.0
SIGNATURE_HEADER = "X-Scim-Gateway-Signature"


def signature(secret: str, body: bytes) -> str:
    """The header's value for `body`: `sha256=` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """Delivers due notifications of every manual app with a webhook."""

    def __init__(
        self,
        items: WorkItems,
        hooks: Mapping[tuple[str, str], WebhookConfig],
        session: aiohttp.ClientSession,
        events: WorkEvents,
    ) -> None:
        self.items = items
        self.hooks = hooks
        self.session = session
        self.events = events
        #: Deliveries by outcome (sent, retry, failed), per (tenant, app): exported as a counter.
        self.outcomes: dict[tuple[str, str, str], int] = {}

    async def deliver_due(self) -> int:
        """One pass: send every notification due now; returns how many were delivered."""
        delivered = 0
        for item in await self.items.due_notifications():
            hook = self.hooks.get((item.tenant, item.app))
            if hook is None:  # the webhook was removed from the config: nothing to announce to
                await self.items.notified(item.id, "failed", item.notify_attempts, None)
                continue
            until = self.items.now() + timedelta(seconds=hook.timeout + 5)
            if not await self.items.lease_notification(item, until):
                continue  # another replica is sending it
            delivered += await self._attempt(item, hook)
        return delivered

    async def _attempt(self, item: WorkItem, hook: WebhookConfig) -> int:
        attempts = item.notify_attempts + 1
        ok = await self._post(item, hook)
        if ok:
            outcome, retry_at = "sent", None
        elif attempts >= hook.max_attempts:
            outcome, retry_at = "failed", None
        else:
            delay = min(hook.base_delay * 2 ** (attempts - 1), hook.max_delay)
            outcome, retry_at = "pending", self.items.now() + timedelta(seconds=delay)
        await self.items.notified(item.id, outcome, attempts, retry_at)
        key = (item.tenant, item.app, "retry" if outcome == "pending" else outcome)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        if outcome == "failed":
            log.warning("webhook_given_up", tenant=item.tenant, app=item.app, work_item=str(item.id), attempts=attempts)
        return 1 if ok else 0

    async def _post(self, item: WorkItem, hook: WebhookConfig) -> bool:
        body = orjson.dumps({"event": "work_item.opened", "workItem": _payload(item)})
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(hook.secret.get_secret_value(), body),
            "X-Scim-Gateway-Delivery": str(item.id),
        }
        try:
            timeout = aiohttp.ClientTimeout(total=hook.timeout)
            async with self.session.post(hook.url, data=body, headers=headers, timeout=timeout) as response:
                await response.read()
                return 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # The URL may carry a token in its query: only the error's type is logged.
            log.info("webhook_unreachable", tenant=item.tenant, app=item.app, error=type(exc).__name__)
            return False

    async def run_forever(self, idle: float = IDLE) -> None:
        """Deliver, then wait for a new item (WorkEvents.wake) or `idle` seconds; never raises but to cancel."""
        while True:
            self.events.wake.clear()
            try:
                await self.deliver_due()
            except DirectoryError as exc:
                log.warning("webhook_pass_failed", error=type(exc).__name__)
            except Exception:
                log.exception("webhook_pass_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.events.wake.wait(), idle)


def _payload(item: WorkItem) -> dict[str, object]:
    body = render(item)
    body.pop("notification", None)
    return body
