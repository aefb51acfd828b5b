"""The harness of the connector contract suite (tests/connectors/contract.py).

`ContractHarness` holds what a backend's subclass says (connector, simulator,
settings from the simulator's URL and demo credentials, vendor quirks) and
how a test gets a fresh simulator plus the connector built by
gateway/runtime.py's `build_connector`, as every app is. Each test gets a freshly
built simulator (fresh state) behind a loopback server that lives for the
session (tests/connectors/hosting.py). Request bodies are put in the
gateway's normalised form by the same scim2-models code the orchestrator
uses, so a connector sees here what it sees in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import aiohttp
import pytest
from scim2_models import Context, ScimFilter

from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import UnknownResource
from gateway.runtime import build_connector
from gateway.scim.models import SchemaSet, dump_request, validate_resource
from gateway.scim.patch import normalise_patch
from gateway.scim.query import from_query_params
from tests.connectors.hosting import host
from vendors.base import Connector, Kind, Op, Resource, SearchQuery
from vendors.registry import connector_class
from vendors.simulators import SIMULATORS

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
METHOD_OPS = (Op.GET, Op.SEARCH, Op.CREATE, Op.REPLACE, Op.PATCH, Op.DELETE)
_WALK_PAGE = 50
_MAX_WALK_PAGES = 200
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Harness:
    """One running simulator and the connector built for it."""

    connector: Connector
    root_url: str
    sim_settings: Any
    credentials: dict[str, str]
    session: aiohttp.ClientSession
    schemas: SchemaSet

    def budget(self) -> CallBudget:
        """A fresh budget for one connector call, as a request (or a health check) would hand it."""
        return self.connector.upstream.new_budget()

    async def requests(self) -> list[dict[str, Any]]:
        """The simulator's request log (method, path, query, auth_scheme, status), oldest first."""
        async with self.session.get(f"{self.root_url}/_sim/requests") as response:
            assert response.status == 200
            log: list[dict[str, Any]] = await response.json()
            return log

    async def clear_requests(self) -> None:
        async with self.session.delete(f"{self.root_url}/_sim/requests") as response:
            assert response.status == 200

    async def inject_fault(self, rule: dict[str, Any]) -> None:
        """Add a fault rule (vendors/simulators/base.py `FaultRule`) ahead of the vendor's own behaviour."""
        async with self.session.post(f"{self.root_url}/_sim/faults", json=rule) as response:
            assert response.status == 200

    async def state(self) -> Any:
        async with self.session.get(f"{self.root_url}/_sim/state") as response:
            assert response.status == 200
            return await response.json()


def needs(kind: Kind, *ops: Op) -> Callable[[F], F]:
    """Mark a contract test as needing `ops` declared for `kind`; the `env` fixture skips it otherwise."""

    def mark(test: F) -> F:
        test.contract_needs = [*getattr(test, "contract_needs", ()), (kind, ops)]  # type: ignore[attr-defined]
        return test

    return mark


def ids(resources: list[Resource]) -> list[str]:
    return [resource["id"] for resource in resources]


def member_ids(group: Resource) -> set[str]:
    return {member["value"] for member in group.get("members") or []}


class ContractHarness:
    """What a backend says about itself, and a fresh simulator plus connector per test."""

    #: The registry kind (the `vendor:` key of an app), e.g. "orca-scim".
    vendor: ClassVar[str]
    #: The name of the vendor's simulator in vendors.simulators.SIMULATORS.
    simulator: ClassVar[str]
    seed: ClassVar[str] = "contract"
    #: Users the simulator is seeded with (demo_data repeats names beyond 60, so keep it small).
    seed_users: ClassVar[int] = 7
    #: The vendor's documented page-size cap, when it has one (a larger count must still be served).
    page_cap: ClassVar[int | None] = None
    #: The Authorization scheme the vendor's API must see (as the simulator logs it).
    auth_scheme: ClassVar[str] = "Bearer"
    #: The vendor's path of its user collection (below the app's base URL), as the simulator logs it.
    user_path: ClassVar[str] = Kind.USER.endpoint
    #: The OAuth2 token endpoint's path on the simulator, when the app's auth fetches tokens there.
    token_path: ClassVar[str | None] = None
    #: Credentials that are identifiers rather than secrets (an OAuth2 client_id, RFC 6749 section 2.2):
    #: they may appear in an auth object's repr, never in an error.
    identifiers: ClassVar[tuple[str, ...]] = ()
    #: Whether the simulator can seed more than page_cap distinct users (else the cap test creates them).
    seeds_many: ClassVar[bool] = False
    #: Filters (formatted with a seeded user's attributes) whose pushdown must match in-memory evaluation.
    filters: ClassVar[tuple[str, ...]] = (
        'userName eq "{userName}"',
        'userName eq "{USERNAME}"',
        'userName eq "nobody@nowhere.example"',
        'userName sw "{prefix}"',
        'displayName co "{middle}"',
        "active eq true",
        'externalId eq "{externalId}"',
        'emails[value eq "{userName}"]',
        'userName eq "{userName}" or userName eq "{other}"',
        'userName eq "{userName}" and active eq true',
        "name.givenName pr",
        "active eq false",
    )

    # -- what a subclass says --------------------------------------------------------------

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        """The app's settings dict (config-shaped: base_url, credentials, options) for this simulator."""
        raise NotImplementedError

    def wrong_credentials(self, credentials: dict[str, str]) -> dict[str, str]:
        """Credentials the vendor must refuse (by default: every value altered)."""
        return {name: f"wrong-{value}" for name, value in credentials.items()}

    def new_user(self, tag: str) -> dict[str, Any]:
        """A SCIM User the vendor accepts on create; `tag` makes it unique."""
        user_name = f"{tag}@contract.example"
        return {
            "schemas": [USER_SCHEMA],
            "userName": user_name,
            "externalId": f"ext-{tag}",
            "displayName": f"Contract {tag.title()}",
            "name": {"givenName": "Contract", "familyName": tag.title()},
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            "active": True,
        }

    #: Attribute paths (dotted; `emails` compares values) a created user must read back unchanged.
    round_trip: ClassVar[tuple[str, ...]] = (
        "userName",
        "displayName",
        "externalId",
        "active",
        "name.givenName",
        "name.familyName",
        "emails",
    )

    #: An optional single-valued string attribute the vendor holds (PUT without it, or PATCH remove, clears it).
    clearable: ClassVar[str | None] = "title"

    def full_user(self, tag: str) -> dict[str, Any]:
        """A user with every attribute in `round_trip` set (by default `new_user`)."""
        return self.new_user(tag)

    def sim_users(self, sim_settings: Any, users: int) -> Any:
        """Simulator settings seeding `users` users in the store this connector reads."""
        return dataclasses.replace(sim_settings, users=users) if hasattr(sim_settings, "users") else sim_settings

    def deletes_permanently(self, connector: Connector) -> bool:
        """Whether DELETE removes the user (True) or deactivates it, as the app's options say."""
        return True

    def expected_users(self) -> int:
        return self.seed_users

    def membership_group(self, groups: list[Resource]) -> Resource:
        """The existing group the membership test adds a user to and removes it from."""
        return groups[0]

    # -- harness ---------------------------------------------------------------------------

    @property
    def cls(self) -> type[Connector]:
        return connector_class(self.vendor)

    def require(self, kind: Kind, *ops: Op) -> None:
        for op in ops:
            if not self.cls.supports(kind, op):
                pytest.skip(f"{self.vendor} does not declare {op.value} for {kind.value}")

    @contextlib.asynccontextmanager
    async def running(
        self, *, users: int | None = None, credentials: dict[str, str] | None = None, **overrides: Any
    ) -> AsyncIterator[Harness]:
        """Start the simulator, build the connector; `overrides` are merged into the settings dict."""
        spec = SIMULATORS[self.simulator]
        sim_settings = self.sim_users(spec.demo_settings(self.seed), self.seed_users if users is None else users)
        good = spec.demo_credentials(sim_settings)
        url, slot = host().slot(self.simulator)
        assert slot.app is None, f"the {self.simulator} simulator slot is already in use"
        slot.app = spec.create_app(sim_settings)
        try:
            async with aiohttp.ClientSession() as session:
                raw = self.app_settings(url, sim_settings, credentials if credentials is not None else good)
                raw.update(overrides)
                settings = self.cls.Settings.model_validate(raw)
                connector = build_connector(self.cls, settings, session, f"contract/{self.cls.vendor}")
                yield Harness(connector, url, sim_settings, good, session, SchemaSet(self.cls.user_extensions))
        finally:
            slot.app = None

    @pytest.fixture
    async def env(self, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
        """A fresh simulator and connector; skips first (no simulator built) when the test's @needs are undeclared."""
        for kind, ops in getattr(request.function, "contract_needs", ()):
            self.require(kind, *ops)
        async with self.running() as harness:
            yield harness

    async def read(self, env: Harness, kind: Kind, resource_id: str) -> Resource:
        """The resource by id: natively where GET is declared, else found in the listing."""
        if self.cls.supports(kind, Op.GET):
            return await env.connector.get(env.budget(), kind, resource_id)
        for resource in await self.list_all(env, kind):
            if resource["id"] == resource_id:
                return resource
        raise UnknownResource(f"{kind.value} {resource_id!r} not in the listing")

    async def list_all(self, env: Harness, kind: Kind, page_size: int = _WALK_PAGE) -> list[Resource]:
        """Every resource of `kind`, walked in pages; fails if the walk does not end."""
        found: list[Resource] = []
        for _ in range(_MAX_WALK_PAGES):
            page = await env.connector.search(
                env.budget(), kind, SearchQuery(start_index=len(found) + 1, count=page_size)
            )
            found.extend(page.resources)
            if not page.resources or len(found) >= page.total:
                return found
        raise AssertionError(f"listing {kind.value} did not end after {_MAX_WALK_PAGES} pages")

    def request_body(self, env: Harness, kind: Kind, body: dict[str, Any], context: Context) -> dict[str, Any]:
        """A body as the orchestrator forwards it (validated, read-only attributes dropped)."""
        return dump_request(validate_resource(env.schemas[kind], body, context), context)

    def patch_ops(self, env: Harness, kind: Kind, resource_id: str, *operations: dict[str, Any]) -> list[Any]:
        return normalise_patch(env.schemas[kind], {"Operations": list(operations)}, resource_id).operations

    def parse_filter(self, env: Harness, kind: Kind, text: str) -> ScimFilter[Any]:
        parsed = from_query_params(env.schemas[kind], {"filter": text}, 1000).filter
        assert parsed is not None
        return parsed

    async def create_users(self, env: Harness, count: int) -> None:
        """Create `count` users through the connector, a few at a time."""
        self.require(Kind.USER, Op.CREATE)
        limiter = asyncio.Semaphore(8)

        async def add(index: int) -> None:
            tag = f"bulk{index:04d}"
            body = self.request_body(env, Kind.USER, self.new_user(tag), Context.RESOURCE_CREATION_REQUEST)
            async with limiter:
                await env.connector.create(env.budget(), Kind.USER, body)

        await asyncio.gather(*(add(index) for index in range(count)))

    async def a_user(self, env: Harness, tag: str) -> Resource:
        """A user to change: created where CREATE is declared, else a seeded one."""
        if self.cls.supports(Kind.USER, Op.CREATE):
            body = self.request_body(env, Kind.USER, self.new_user(tag), Context.RESOURCE_CREATION_REQUEST)
            return await env.connector.create(env.budget(), Kind.USER, body)
        return (await env.connector.search(env.budget(), Kind.USER, SearchQuery(count=1))).resources[0]

    async def check_delete(self, env: Harness) -> None:
        user = await self.a_user(env, "deleted")
        await env.connector.delete(env.budget(), Kind.USER, user["id"])
        if self.deletes_permanently(env.connector):
            with pytest.raises(UnknownResource):
                await self.read(env, Kind.USER, user["id"])
        else:
            assert (await self.read(env, Kind.USER, user["id"]))["active"] is False

    async def change_members(
        self, env: Harness, group: Resource, add: str | None = None, remove: str | None = None
    ) -> None:
        """Add or remove one member: by PATCH where declared, else by replacing the member list."""
        if self.cls.supports(Kind.GROUP, Op.PATCH):
            operation = (
                {"op": "add", "path": "members", "value": [{"value": add}]}
                if add
                else {"op": "remove", "path": f'members[value eq "{remove}"]'}
            )
            await env.connector.patch(
                env.budget(), Kind.GROUP, group["id"], self.patch_ops(env, Kind.GROUP, group["id"], operation)
            )
            return
        members = [
            {"value": value} for value in sorted(member_ids(group) | ({add} if add else set())) if value != remove
        ]
        wanted = {"schemas": [GROUP_SCHEMA], "id": group["id"], "displayName": group["displayName"], "members": members}
        body = self.request_body(env, Kind.GROUP, wanted, Context.RESOURCE_REPLACEMENT_REQUEST)
        await env.connector.replace(env.budget(), Kind.GROUP, group["id"], body)


def value_at(resource: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (an extension URN counts as one step); multi-valued: the values, sorted."""
    value: Any = resource
    urn, _, rest = path.rpartition(":") if path.startswith("urn:") else ("", "", path)
    if urn:
        value = value.get(urn) or {}
    for step in rest.split("."):
        value = value.get(step) if isinstance(value, dict) else None
    if isinstance(value, list):
        return sorted(str(item.get("value")) if isinstance(item, dict) else str(item) for item in value)
    return value
