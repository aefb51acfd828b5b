"""Webhook notifications of new work items (gateway/backed/manual/webhook.py) to a loopback receiver, on SQLite
and PostgreSQL: signed, retried with backoff, resumed by another sender (a restart), never blocking SCIM."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.backed.manual.events import WorkEvents
from gateway.backed.manual.webhook import WebhookSender
from gateway.clock import FakeClock
from gateway.config import WebhookConfig
from gateway.directory.store import Directory
from gateway.directory.work import Action, Task
from gateway.inbound.serving import serving
from gateway.observability.audit import AuditLog
from tests.backed.harness import entra_user
from tests.backed.manual_harness import manual_gateway

SECRET = "webhook-test-secret"


class Receiver:
    """A ticketing system on loopback: answers each POST with the next of `statuses` (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = asyncio.Event()
        self.release: asyncio.Event | None = None
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        self.received.append((dict(request.headers), body))
        self.arrived.set()
        if self.release is not None:
            await self.release.wait()
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)


def verified(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-scim-gateway-signature"], expected)
    parsed: dict[str, Any] = orjson.loads(body)
    return parsed


async def add_item(directory: Directory, user_name: str) -> Any:
    items = directory.work()
    async with items.writing() as connection:
        return await items.add(
            connection, "acme", "darktrace", uuid.uuid4(), Action.CREATE, Task(user_name, ("Analyst",)), notify=True
        )


async def test_signed_retried_with_backoff_and_resumed_by_a_new_sender(
    directory: Directory, clock: FakeClock, tmp_path: Path
) -> None:
    receiver = Receiver([500, 503])
    items = directory.work()
    events = WorkEvents(AuditLog(str(tmp_path / "audit")), frozenset({("acme", "darktrace")}))
    async with serving(receiver.app) as server, aiohttp.ClientSession() as session:
        hook = WebhookConfig(url=f"{server.url}/hook", secret=SecretStr(SECRET), base_delay=10, max_attempts=5)
        sender = WebhookSender(items, {("acme", "darktrace"): hook}, session, events)
        item = await add_item(directory, "jdoe@acme.example")
        assert await sender.deliver_due() == 0  # 500
        assert await sender.deliver_due() == 0  # not due again yet: nothing sent
        assert len(receiver.received) == 1
        clock.advance(10)
        assert await sender.deliver_due() == 0  # 503; next in 20 s
        clock.advance(19)
        assert await sender.deliver_due() == 0 and len(receiver.received) == 2
        clock.advance(1)
        # A restarted process resumes from the database.
        restarted = WebhookSender(items, {("acme", "darktrace"): hook}, session, events)
        assert await restarted.deliver_due() == 1
        assert await restarted.deliver_due() == 0
    assert len(receiver.received) == 3
    bodies = [verified(headers, body) for headers, body in receiver.received]
    assert {headers["x-scim-gateway-delivery"] for headers, _ in receiver.received} == {str(item.id)}
    assert bodies[0] == bodies[2]
    assert bodies[0]["event"] == "work_item.opened"
    assert bodies[0]["workItem"]["userName"] == "jdoe@acme.example" and bodies[0]["workItem"]["action"] == "create"
    stored = await items.get("acme", item.id)
    assert stored is not None and (stored.notify, stored.notify_attempts) == ("sent", 3)
    assert stored.is_open  # the notification was delivered; the work itself is still to do


async def test_a_receiver_that_never_answers_well_is_given_up_and_the_item_stays(
    directory: Directory, clock: FakeClock, tmp_path: Path
) -> None:
    receiver = Receiver([500] * 10)
    items = directory.work()
    events = WorkEvents(AuditLog(str(tmp_path / "audit")))
    async with serving(receiver.app) as server, aiohttp.ClientSession() as session:
        hook = WebhookConfig(url=f"{server.url}/hook", secret=SecretStr(SECRET), base_delay=1, max_attempts=3)
        sender = WebhookSender(items, {("acme", "darktrace"): hook}, session, events)
        item = await add_item(directory, "jdoe@acme.example")
        for _ in range(5):
            await sender.deliver_due()
            clock.advance(60)
    assert len(receiver.received) == 3
    stored = await items.get("acme", item.id)
    assert stored is not None and stored.notify == "failed" and stored.is_open
    assert sender.outcomes == {("acme", "darktrace", "retry"): 2, ("acme", "darktrace", "failed"): 1}


async def test_the_scim_call_does_not_wait_for_the_webhook(
    database_url: str, keys: dict[str, str], tmp_path: Path
) -> None:
    receiver = Receiver()
    receiver.release = asyncio.Event()  # the ticketing system hangs until released
    async with serving(receiver.app) as server:
        webhook = {"url": f"{server.url}/hook", "secret": SECRET}
        async with (
            manual_gateway(database_url, keys, tmp_path / "audit", webhook=webhook) as manual,
            manual.client() as client,
        ):
            created = await client.post("/Users", json=entra_user("hook@acme.example", "e-hook"))
            assert created.status_code == 201  # answered while the receiver still hangs
            await asyncio.wait_for(receiver.arrived.wait(), 10)
            receiver.release.set()
            body = verified(*receiver.received[0])
            assert body["workItem"]["resourceId"] == created.json()["id"]
            assert manual.runtime.work is not None
            for _ in range(100):  # the sender records the outcome once the receiver answers
                page = await manual.runtime.work.listing("acme")
                if page["items"][0]["notification"]["state"] == "sent":
                    break
                await asyncio.sleep(0.05)
            assert page["items"][0]["notification"] == {"state": "sent", "attempts": 1}
