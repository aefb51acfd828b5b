"""Settling write intents whose outcome at the vendor is unknown (a crash, a timeout, a lost answer).

An intent is written before the vendor call and resolved after it
(gateway/backed/operations.py). One left behind means the process stopped or
the vendor's answer never came. Once it is older than `settle_after` (longer
than any request may take), the vendor's state decides:

    create  the vendor holds the userName, with our externalId -> confirm it, linked; else abandon
    update  the vendor shows a native value the intent changed  -> confirm (held values from the intent);
            the vendor still shows the old values                -> abandon
    delete  the vendor no longer has the account                  -> confirm (the entry is deleted); else abandon

Intents are settled inline by the next write that meets one, and by a
background sweep in the app's lifespan (`sweep_forever`), so a crash never
leaves a user locked or the directory and the vendor in silent disagreement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from gateway.backed.attributes import VendorModel, kept, leaves, same
from gateway.clock import Clock
from gateway.config import DirectoryMode
from gateway.create import find_created
from gateway.directory.errors import Conflict, DirectoryError, IntentGone
from gateway.directory.records import Entry, IntentOp, State
from gateway.directory.resources import Resources
from gateway.outbound.breaker import CircuitOpen
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import ConnectorError, NotSupported, UnknownResource, VendorAuthFailed, VendorThrottled
from vendors.base import Kind, Resource

if TYPE_CHECKING:
    from gateway.operations import AppOperations

log = structlog.get_logger("scim_gateway")


def definite(exc: ConnectorError) -> bool:
    """Whether a failed vendor write certainly changed nothing there (its intent can be abandoned at once)."""
    if isinstance(exc, VendorThrottled | CircuitOpen | VendorAuthFailed | NotSupported):
        return True  # refused before acting: throttled, never sent, credential refused, cannot at all
    return exc.status < 500


def intent_state(desired: Resource) -> State:
    """An intent's desired state: the whole resource asked for (the password never kept)."""
    resource = {key: value for key, value in desired.items() if key != "password"}
    user_name, external_id = resource.get("userName"), resource.get("externalId")
    return State(
        user_name=user_name if isinstance(user_name, str) else None,
        external_id=external_id if isinstance(external_id, str) else None,
        attributes=resource,
        active=bool(resource.get("active", True)),
    )


class Settler:
    """Settles one app's stale intents from the vendor's state."""

    def __init__(
        self, plain: AppOperations, resources: Resources, model: VendorModel, mode: DirectoryMode, settle_after: float
    ) -> None:
        self.plain = plain
        self.resources = resources
        self.model = model
        self.mode = mode
        self.settle_after = timedelta(seconds=settle_after)

    async def settle_if_stale(self, budget: CallBudget, kind: Kind, entry: Entry) -> bool:
        """Settle `entry`'s intent if it is older than `settle_after`; whether it was (False: still fresh)."""
        if entry.pending is None:
            return True
        if self.resources.now() - entry.pending.recorded < self.settle_after:
            return False
        await self.settle(budget, kind, entry)
        return True

    async def settle(self, budget: CallBudget, kind: Kind, entry: Entry) -> None:
        """Confirm or abandon `entry`'s intent by what the vendor holds; raises ConnectorError if it cannot tell."""
        intent = entry.pending
        if intent is None:
            return
        desired = dict(intent.desired.attributes)
        try:
            if intent.op is IntentOp.CREATE:
                found = await find_created(budget, self.plain, kind, desired)
                if found is None:
                    await self.resources.abandon(kind, entry.id, intent)
                    return
                try:
                    await self.resources.confirm(
                        kind, entry.id, intent, vendor_id=str(found["id"]), state=self._state(desired, found)
                    )
                except Conflict:  # the vendor id is linked to another entry already: this intent is not it
                    await self.resources.abandon(kind, entry.id, intent)
                return
            vendor_now = await self._vendor_resource(budget, kind, entry)
            if intent.op is IntentOp.DELETE:
                await (self.resources.confirm if vendor_now is None else self.resources.abandon)(kind, entry.id, intent)
            elif vendor_now is not None and self._applied(desired, entry.state.written, vendor_now):
                await self.resources.confirm(kind, entry.id, intent, state=self._state(desired, vendor_now))
            else:
                await self.resources.abandon(kind, entry.id, intent)
        except IntentGone:
            return  # another writer or replica settled it first
        log.info("directory_intent_settled", app=f"{self.resources.tenant}/{self.resources.app}", op=intent.op.value)

    async def _vendor_resource(self, budget: CallBudget, kind: Kind, entry: Entry) -> Resource | None:
        if entry.vendor_id is None:
            return None
        try:
            return await self.plain.get(budget, kind, entry.vendor_id)
        except UnknownResource:
            return None

    def _applied(self, desired: Resource, written: Mapping[str, Any], vendor_now: Resource) -> bool:
        """Whether the vendor shows the update: a native value it changed is there, or it changed none."""
        before, now = leaves(written), leaves(vendor_now)
        changed = [
            (leaf, value)
            for leaf, value in leaves(desired).items()
            if self.model.native(leaf) and not same(value, before.get(leaf))
        ]
        return not changed or any(same(value, now.get(leaf)) for leaf, value in changed)

    def _state(self, desired: Resource, stored: Resource) -> State:
        split = kept(self.model, desired, stored)
        user_name, external_id = desired.get("userName"), desired.get("externalId")
        return State(
            user_name=user_name if isinstance(user_name, str) else None,
            external_id=external_id if isinstance(external_id, str) else None,
            attributes=split.held if self.mode == "full" else {},
            active=bool(stored.get("active", True)),
            written=split.written,
        )


async def sweep(settlers: Iterable[Settler], clock: Clock, deadline: float) -> int:
    """Settle every intent older than its app's `settle_after`; how many were settled. Failures are logged."""
    settled = 0
    for settler in settlers:
        try:
            stale = await settler.resources.pending_intents(settler.settle_after)
        except DirectoryError:
            continue  # the database is down: the next sweep tries again
        for entry in stale:
            budget = CallBudget.starting_now(clock, deadline)
            try:
                await settler.settle(budget, Kind(entry.kind), entry)
                settled += 1
            except (ConnectorError, DirectoryError) as exc:
                log.warning("directory_intent_unsettled", app=f"{entry.tenant}/{entry.app}", error=type(exc).__name__)
    return settled


async def sweep_forever(settlers: list[Settler], clock: Clock, every: float, deadline: float) -> None:
    """`sweep` now and then every `every` seconds, until cancelled (the app's lifespan)."""
    while True:
        await sweep(settlers, clock, deadline)
        await asyncio.sleep(every)
