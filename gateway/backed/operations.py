"""An app's SCIM operations with the gateway's directory: ids, correlation and held attributes kept.

Same methods as AppOperations (gateway/operations.py), which it wraps for the
vendor calls. Users only; Groups pass through (the vendors whose model is
smaller than SCIM's serve fixed groups, or none).

Reads are gateway/backed/reads.py's. The SCIM id is the vendor's id, so
turning the directory on or off never changes an id an IdP already holds.

Writes, in this order (gateway/backed/__init__.py says why):
    read the entry and the vendor's current resource (If-Match checked here)
    -> record the intent (conditional on the entry's version: of concurrent
       writers one wins, the others start over on the new version)
    -> write to the vendor -> confirm the intent with what the vendor stored
       (held = what it cannot store, or did not store as sent), or abandon it
       when the vendor certainly did not act.
Anything else (a crash, a timeout, a lost answer) leaves the intent for
gateway/backed/recovery.py to settle from the vendor's state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from scim2_models import Context, PreconditionFailedException

from gateway.backed.attributes import Kept, VendorModel, changes_vendor, kept
from gateway.backed.errors import DirectoryBusy, refused_access, refused_unstored
from gateway.backed.reads import DirectoryReads
from gateway.backed.recovery import Settler, definite, intent_state
from gateway.backed.takeover import Takeover
from gateway.backed.versions import check_if_match
from gateway.config import DirectoryMode
from gateway.directory.errors import Conflict, IntentGone, StaleVersion, WriteInProgress
from gateway.directory.records import Entry, IntentOp, Origin, State
from gateway.directory.resources import Resources
from gateway.operations import AppOperations
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import AlreadyExists, ConnectorError, UnknownResource
from gateway.scim.models import dump_request, parse_response
from gateway.scim.patch import NormalisedPatch
from gateway.scim.query import ListQuery
from vendors.base import Kind, Op, Page, Resource

#: Rounds of read -> intent before a write gives up to concurrent writers (503, retried by the IdP).
WRITE_ROUNDS = 4
VendorWrite = Callable[[Resource, Resource], Awaitable[Resource]]


class DirectoryOperations:
    """One app's operations over its vendor and its directory entries (mode `link` or `full`)."""

    def __init__(
        self,
        plain: AppOperations,
        resources: Resources,
        mode: DirectoryMode,
        model: VendorModel,
        settle_after: float,
        takeover: Takeover,
    ) -> None:
        self.plain = plain
        self.resources = resources
        self.mode = mode
        self.model = model
        self.takeover = takeover
        self.schemas = plain.schemas
        self.offered = plain.offered
        self.connector = plain.connector
        self.settler = Settler(plain, resources, model, mode, settle_after)
        self.reads = DirectoryReads(plain, resources, mode, model)

    def require(self, kind: Kind, op: Op) -> None:
        """Raise NotSupported (501) unless `op` on `kind` can be served at all."""
        self.plain.require(kind, op)

    # Reads (gateway/backed/reads.py).

    async def get(self, budget: CallBudget, kind: Kind, resource_id: str) -> Resource:
        return await self.reads.get(budget, kind, resource_id)

    async def search(self, budget: CallBudget, kind: Kind, query: ListQuery) -> Page:
        """As AppOperations.search, on the merged resources; `userName eq` and `externalId eq` by index."""
        return await self.reads.search(budget, kind, query)

    def view(self, vendor: Resource, entry: Entry | None) -> Resource:
        return self.reads.view(vendor, entry)

    # Writes.

    async def provision(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        """Create (once; gateway/create.py), recorded in the directory; AlreadyExists when the userName is taken."""
        if kind is not Kind.USER:
            return await self.plain.provision(budget, kind, resource)
        self._refuse_unstored(resource)
        for _ in range(WRITE_ROUNDS):
            try:
                pending = await self.resources.record_intent(kind, IntentOp.CREATE, intent_state(resource))
                break
            except Conflict:
                await self._clear_stale_holder(budget, kind, str(resource.get("userName") or ""))
        else:
            raise DirectoryBusy("another write to this userName is under way; retry")
        assert pending.pending is not None
        try:
            stored = await self.plain.provision(budget, kind, resource)
        except AlreadyExists:
            # The vendor holds the account, the directory does not: made outside the IdP's provisioning.
            await self.resources.abandon(kind, pending.id, pending.pending)
            existing = await self.takeover.existing(budget, kind, resource)
            return await self._update(
                budget,
                kind,
                str(existing["id"]),
                None,
                lambda _: resource,
                self._put_back(budget, kind, str(existing["id"])),
                adopt=True,
            )
        except ConnectorError as exc:
            if definite(exc):
                await self.resources.abandon(kind, pending.id, pending.pending)
            raise
        return await self._confirm(kind, pending, resource, stored, vendor_id=str(stored["id"]))

    async def replace(
        self, budget: CallBudget, kind: Kind, resource_id: str, resource: Resource, *, if_match: str | None = None
    ) -> Resource:
        """PUT (RFC 7644 section 3.5.1); PreconditionFailed (412) when `if_match` is not the current ETag."""
        if kind is not Kind.USER:
            return await self.plain.replace(budget, kind, resource_id, resource)

        def wanted(current: Resource) -> Resource:
            return resource

        send = self._put_back(budget, kind, resource_id)
        return await self._update(budget, kind, resource_id, if_match, wanted, send)

    async def patch(
        self,
        budget: CallBudget,
        kind: Kind,
        resource_id: str,
        patch: NormalisedPatch,
        *,
        if_match: str | None = None,
    ) -> Resource:
        """PATCH (RFC 7644 section 3.5.2), applied to the merged resource so held attributes take part."""
        if kind is not Kind.USER:
            return await self.plain.patch(budget, kind, resource_id, patch)

        def wanted(current: Resource) -> Resource:
            model = parse_response(self.schemas[kind], current)
            patch.apply(model)
            return dump_request(model, Context.RESOURCE_REPLACEMENT_REQUEST)

        send = self._put_back(budget, kind, resource_id)
        if self.mode == "link" and Op.PATCH in self.plain.native.get(kind, frozenset()):

            async def forward(vendor_now: Resource, desired: Resource) -> Resource:
                return await self.plain.patch(budget, kind, resource_id, patch)

            send = forward
        return await self._update(budget, kind, resource_id, if_match, wanted, send)

    def _put_back(self, budget: CallBudget, kind: Kind, resource_id: str) -> VendorWrite:
        async def put(vendor_now: Resource, desired: Resource) -> Resource:
            return await self.plain.write_back(budget, kind, resource_id, vendor_now, desired)

        return put

    async def delete(self, budget: CallBudget, kind: Kind, resource_id: str, *, if_match: str | None = None) -> None:
        """Delete at the vendor and the entry with every value held for it (not flagged: deleted)."""
        if kind is not Kind.USER:
            await self.plain.delete(budget, kind, resource_id)
            return
        for _ in range(WRITE_ROUNDS):
            entry = await self.resources.by_vendor_id(kind, resource_id)
            check_if_match(if_match, entry)
            if entry is None:
                await self.plain.delete(budget, kind, resource_id)
                return
            try:
                pending = await self.resources.record_intent(
                    kind, IntentOp.DELETE, entry.state, id=entry.id, expected_version=entry.version
                )
            except (StaleVersion, WriteInProgress) as exc:
                await self._contended(budget, kind, entry, exc, if_match)
                continue
            assert pending.pending is not None
            try:
                await self.plain.delete(budget, kind, resource_id)
            except UnknownResource:
                await self.resources.confirm(kind, entry.id, pending.pending)  # gone already: so is its entry
                raise
            except ConnectorError as exc:
                if definite(exc):
                    await self.resources.abandon(kind, entry.id, pending.pending)
                raise
            await self.resources.confirm(kind, entry.id, pending.pending)
            return
        raise DirectoryBusy("other writes to this user kept coming first; retry")

    async def _update(
        self,
        budget: CallBudget,
        kind: Kind,
        resource_id: str,
        if_match: str | None,
        wanted: Callable[[Resource], Resource],
        send: VendorWrite,
        *,
        adopt: bool = False,
    ) -> Resource:
        """read -> intent -> vendor write -> confirm, started over while concurrent writers come first.

        `adopt`: the write is an IdP's create taking over an account made outside it (`on_existing: link`).
        """
        for _ in range(WRITE_ROUNDS):
            entry = await self.resources.by_vendor_id(kind, resource_id)
            check_if_match(if_match, entry)
            vendor_now = await self.plain.get(budget, kind, resource_id)
            if entry is None or not entry.visible:
                entry = await self._first_entry(kind, vendor_now, Origin.ADOPTED if adopt else Origin.VENDOR)
                if adopt:
                    self.takeover.record(resource_id)
            desired = wanted(self.view(vendor_now, entry))
            self._refuse_unstored(desired)
            try:
                pending = await self.resources.record_intent(
                    kind, IntentOp.UPDATE, intent_state(desired), id=entry.id, expected_version=entry.version
                )
            except (StaleVersion, WriteInProgress) as exc:
                await self._contended(budget, kind, entry, exc, if_match)
                continue
            assert pending.pending is not None
            try:
                # A change to held attributes only is not sent: the vendor would be asked to store what it has.
                changes = changes_vendor(self.model, desired, self._as_written(kind, vendor_now))
                stored = await send(vendor_now, desired) if changes else vendor_now
            except ConnectorError as exc:
                if definite(exc):
                    await self.resources.abandon(kind, entry.id, pending.pending)
                raise
            return await self._confirm(kind, pending, desired, stored)
        raise DirectoryBusy("other writes to this user kept coming first; retry")

    def _as_written(self, kind: Kind, resource: Resource) -> Resource:
        """`resource` as a write carries it (RFC 7643 section 7: no readOnly attribute, such as a status the
        vendor sets itself), so that it compares with what an IdP's PUT or PATCH asks for."""
        return dump_request(parse_response(self.schemas[kind], resource), Context.RESOURCE_REPLACEMENT_REQUEST)

    async def _confirm(
        self, kind: Kind, pending: Entry, desired: Resource, stored: Resource, vendor_id: str | None = None
    ) -> Resource:
        """The vendor acted: its answer and what it could not store become the entry's new version."""
        assert pending.pending is not None
        split = kept(self.model, desired, stored)
        try:
            entry = await self.resources.confirm(
                kind, pending.id, pending.pending, vendor_id=vendor_id, state=self._state(desired, stored, split)
            )
        except IntentGone:
            entry = await self.resources.get(kind, pending.id)  # settled meanwhile (recovery): show what it decided
        if split.refused:
            raise refused_access(self.connector.vendor, split.refused)
        return self.view(stored, entry)

    def _state(self, desired: Resource, stored: Resource, split: Kept) -> State:
        return State(
            user_name=_text(desired.get("userName")) or _text(stored.get("userName")),
            external_id=_text(desired.get("externalId")),
            attributes=split.held if self.mode == "full" else {},
            active=bool(stored.get("active", desired.get("active", True))),
            written=split.written,
        )

    async def _first_entry(self, kind: Kind, vendor_now: Resource, origin: Origin) -> Entry:
        """An entry for an account the gateway meets first at the vendor (version 1)."""
        split = kept(self.model, vendor_now, vendor_now)
        state = self._state(vendor_now, vendor_now, split)
        vendor_id = str(vendor_now["id"])
        try:
            return await self.resources.insert(kind, state, vendor_id=vendor_id, origin=origin)
        except Conflict:
            existing = await self.resources.by_vendor_id(kind, vendor_id)
            if existing is None:
                raise AlreadyExists("another user in this app holds this userName in the gateway's directory") from None
            return existing

    async def _contended(
        self, budget: CallBudget, kind: Kind, entry: Entry, exc: Exception, if_match: str | None
    ) -> None:
        """Another writer came first: 412 for a conditional write, else settle a stale intent and go again."""
        if isinstance(exc, StaleVersion) and if_match is not None:
            raise PreconditionFailedException(detail="the resource changed since the version given in If-Match")
        if isinstance(exc, WriteInProgress):
            current = await self.resources.get(kind, entry.id)
            pending = current is not None and current.pending is not None
            if pending and current is not None and not await self.settler.settle_if_stale(budget, kind, current):
                raise DirectoryBusy("another write to this user is under way; retry")

    async def _clear_stale_holder(self, budget: CallBudget, kind: Kind, user_name: str) -> None:
        """A create's userName is taken in the directory: free it if its holder is gone, else AlreadyExists."""
        holder = await self.resources.by_user_name(user_name, kind)
        if holder is None:
            return  # freed meanwhile
        if holder.pending is not None:
            if await self.settler.settle_if_stale(budget, kind, holder):
                return
            raise DirectoryBusy("another write to this userName is under way; retry")
        if holder.vendor_id is not None:
            try:
                await self.plain.get(budget, kind, holder.vendor_id)
            except UnknownResource:
                await self.resources.delete(kind, holder.id, expected_version=holder.version)
                return
        raise AlreadyExists(f"a user with this userName already exists in {self.connector.vendor}")

    def _refuse_unstored(self, resource: Resource) -> None:
        """In `link` mode nothing is held: an attribute the vendor cannot store is refused, not dropped."""
        if self.mode == "link":
            unstored = self.model.unstored(resource)
            if unstored:
                raise refused_unstored(self.connector.vendor, unstored)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
