"""A manual app's SCIM operations: the directory is the desired state, and a person makes it true.

Same methods as AppOperations and DirectoryOperations, for an app whose
vendor has no user API (`mode: manual`). Users only: Groups are 501.

Writes: the IdP's create, PUT, PATCH and DELETE change the directory's entry
(versioned and conditional, as for any directory-backed app) and add a work
item (gateway/directory/work.py) *in the same transaction*: either both are
stored or neither, so no accepted write is ever without its item. A write that
changes nothing the vendor holds (the same values again, or only externalId)
adds no item. Then the item is audited and announced (the webhook, if any).

Reads answer from the directory, with each account's fulfilment
(gateway/backed/manual/fulfilment.py). The SCIM id is the directory's id; the vendor
id is recorded when a person completes the create.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from scim2_models import Context, PreconditionFailedException
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.backed.errors import DirectoryBusy
from gateway.backed.lookup import indexed_lookup
from gateway.backed.manual.events import WorkEvents
from gateway.backed.manual.fulfilment import Fulfilment, changed, state_of, task, update_action, view
from gateway.backed.operations import WRITE_ROUNDS
from gateway.backed.versions import check_if_match
from gateway.directory.errors import Conflict, NotFound, StaleVersion
from gateway.directory.records import Entry, Origin
from gateway.directory.resources import Resources
from gateway.directory.work import Action, WorkItem, WorkItems
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import AlreadyExists, NotSupported, UnknownResource
from gateway.scim.models import SchemaSet, dump_request, parse_response
from gateway.scim.patch import NormalisedPatch
from gateway.scim.query import ListQuery
from vendors.base import Kind, Op, Page, Resource

USER_OPS = frozenset({Op.GET, Op.SEARCH, Op.FILTER, Op.CREATE, Op.REPLACE, Op.PATCH, Op.DELETE})
#: Entries read per query while a filter is evaluated in the gateway.
PAGE = 200


def manual_schemas(schemas: SchemaSet) -> SchemaSet:
    """The app's models with the Fulfilment extension added to its User."""
    return SchemaSet((*schemas.extensions[Kind.USER][1:], Fulfilment))


class ManualOperations:
    """One manual app's operations over its directory entries and work items."""

    def __init__(
        self, vendor: str, schemas: SchemaSet, resources: Resources, work: WorkItems, events: WorkEvents
    ) -> None:
        self.vendor = vendor
        self.schemas = schemas
        self.resources = resources
        self.work = work
        self.events = events
        self.offered: dict[Kind, frozenset[Op]] = {Kind.USER: USER_OPS, Kind.GROUP: frozenset()}

    def __repr__(self) -> str:
        return f"ManualOperations({self.resources.tenant}/{self.resources.app})"

    def require(self, kind: Kind, op: Op) -> None:
        """Raise NotSupported (501) for Groups: a manual app keeps Users only."""
        if op not in self.offered[kind]:
            raise NotSupported(
                f"{self.vendor} is a manual app (its users are created by a person from a work queue): the gateway "
                "keeps Users only. Give access with roles on each user, and turn off group provisioning for this "
                "app in the IdP."
            )

    # Reads.

    async def get(self, budget: CallBudget, kind: Kind, resource_id: str) -> Resource:
        self.require(kind, Op.GET)
        entry = await self._entry(resource_id)
        return await self._view(entry)

    async def search(self, budget: CallBudget, kind: Kind, query: ListQuery) -> Page:
        """Matches among the directory's entries (`userName eq` and `externalId eq` by index), evaluated in
        the gateway so held attributes and the fulfilment can be filtered on."""
        self.require(kind, Op.SEARCH)
        lookup = indexed_lookup(query.filter)
        matches: list[Resource] = []
        if lookup is not None:
            if lookup.attribute == "userName":
                found = await self.resources.by_user_name(lookup.value, Kind.USER)
                entries = [found] if found is not None else []
            else:
                entries = await self.resources.by_external_id(Kind.USER, lookup.value)
            matches = self._matching(query, await self._views(entries))
        else:
            after: UUID | None = None
            while True:
                entries = await self.resources.entries(Kind.USER, after=after, limit=PAGE)
                matches.extend(self._matching(query, await self._views(entries)))
                if len(entries) < PAGE:
                    break
                after = entries[-1].id
        start = query.start_index - 1
        return Page(total=len(matches), resources=matches[start : start + query.count])

    def _matching(self, query: ListQuery, resources: list[Resource]) -> list[Resource]:
        if query.filter is None:
            return resources
        model = self.schemas[Kind.USER]
        return [resource for resource in resources if query.filter.match(parse_response(model, resource))]

    # Writes: the entry and its work item in one transaction.

    async def provision(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        """Record the desired User and a `create` item; AlreadyExists (409 uniqueness) when the userName is taken."""
        self.require(kind, Op.CREATE)
        state = state_of(resource)
        try:
            async with self.resources.writing() as connection:
                entry = await self.resources.insert(
                    Kind.USER, state, vendor_id=None, origin=Origin.GATEWAY, connection=connection
                )
                item = await self._add(connection, entry, Action.CREATE, resource, changed({}, resource))
        except Conflict:
            raise AlreadyExists(f"a user with this userName already exists in {self.vendor}") from None
        self.events.opened(item)
        return view(entry, item)

    async def replace(
        self, budget: CallBudget, kind: Kind, resource_id: str, resource: Resource, *, if_match: str | None = None
    ) -> Resource:
        """PUT (RFC 7644 section 3.5.1); PreconditionFailed (412) when `if_match` is not the current ETag."""
        self.require(kind, Op.REPLACE)
        return await self._update(resource_id, if_match, lambda current: resource)

    async def patch(
        self,
        budget: CallBudget,
        kind: Kind,
        resource_id: str,
        patch: NormalisedPatch,
        *,
        if_match: str | None = None,
    ) -> Resource:
        """PATCH (RFC 7644 section 3.5.2), applied to the desired User."""
        self.require(kind, Op.PATCH)

        def wanted(current: Resource) -> Resource:
            model = parse_response(self.schemas[Kind.USER], current)
            patch.apply(model)
            return dump_request(model, Context.RESOURCE_REPLACEMENT_REQUEST)

        return await self._update(resource_id, if_match, wanted)

    async def delete(self, budget: CallBudget, kind: Kind, resource_id: str, *, if_match: str | None = None) -> None:
        """Delete the entry (every value held for it) and add a `delete` item naming the account."""
        self.require(kind, Op.DELETE)
        for _ in range(WRITE_ROUNDS):
            entry = await self._entry(resource_id)
            check_if_match(if_match, entry)
            current = await self._view(entry)
            try:
                async with self.resources.writing() as connection:
                    await self.resources.delete(
                        Kind.USER, entry.id, expected_version=entry.version, connection=connection
                    )
                    item = await self._add(connection, entry, Action.DELETE, current, ())
            except StaleVersion:
                self._contended(if_match)
                continue
            except NotFound:
                raise UnknownResource(f"User {resource_id!r} not found") from None
            self.events.opened(item)
            return
        raise DirectoryBusy("other writes to this user kept coming first; retry")

    async def _update(self, resource_id: str, if_match: str | None, wanted: Callable[[Resource], Resource]) -> Resource:
        """read -> desired -> (entry + item) in one transaction, started over while concurrent writers win."""
        for _ in range(WRITE_ROUNDS):
            entry = await self._entry(resource_id)
            check_if_match(if_match, entry)
            current = await self._view(entry)
            desired = wanted(current)
            state = state_of(desired)
            changes = changed(current, desired)
            if state == entry.state:
                return current  # nothing to change: no new version, no work for anyone
            try:
                async with self.resources.writing() as connection:
                    updated = await self.resources.update(
                        Kind.USER, entry.id, state, expected_version=entry.version, connection=connection
                    )
                    item = None
                    if changes:
                        action = update_action(current, desired)
                        item = await self._add(connection, updated, action, desired, changes)
            except StaleVersion:
                self._contended(if_match)
                continue
            except Conflict:
                raise AlreadyExists(f"a user with this userName already exists in {self.vendor}") from None
            if item is None:
                return await self._view(updated)
            self.events.opened(item)
            return view(updated, item)
        raise DirectoryBusy("other writes to this user kept coming first; retry")

    async def _add(
        self, connection: AsyncConnection, entry: Entry, action: Action, resource: Resource, changes: tuple[str, ...]
    ) -> WorkItem:
        return await self.work.add(
            connection,
            self.resources.tenant,
            self.resources.app,
            entry.id,
            action,
            task(resource, changes, entry.vendor_id),
            notify=self.events.notifies(self.resources.tenant, self.resources.app),
        )

    @staticmethod
    def _contended(if_match: str | None) -> None:
        if if_match is not None:
            raise PreconditionFailedException(detail="the resource changed since the version given in If-Match")

    async def _entry(self, resource_id: str) -> Entry:
        try:
            id = UUID(resource_id)
        except ValueError:
            raise UnknownResource(f"User {resource_id!r} not found") from None
        entry = await self.resources.get(Kind.USER, id)
        if entry is None or not entry.visible:
            raise UnknownResource(f"User {resource_id!r} not found")
        return entry

    async def _view(self, entry: Entry) -> Resource:
        return (await self._views([entry]))[0]

    async def _views(self, entries: list[Entry]) -> list[Resource]:
        visible = [entry for entry in entries if entry.visible]
        items = await self.work.latest(self.resources.tenant, self.resources.app, [entry.id for entry in visible])
        return [view(entry, items.get(entry.id)) for entry in visible]
