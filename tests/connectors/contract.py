"""The shared connector contract suite: every connector, against its own simulator, over loopback HTTP.

A backend's test module subclasses `ConnectorContract`, names its connector
(`vendor`, the registry kind) and simulator, and says how to build the app's
settings from the simulator's URL and demo credentials. Each test asks only
what the connector *declares* (vendors/base.py `capabilities`) and skips the
rest with "<vendor> does not declare <op> for <kind>"; undeclared operations
must raise NotSupported before any vendor call.

The connector is tested directly (not through the gateway's HTTP face) and is
built exactly as gateway/runtime.py builds it: one aiohttp ClientSession, the
class's vendor auth bound to a client factory, one UpstreamClient. Each test
gets a freshly built simulator (fresh state) behind a loopback server that
lives for the session (tests/connectors/hosting.py). Request
bodies are the gateway's normalised form (validated and dumped by the same
scim2-models code the orchestrator uses), so a connector sees here what it
sees in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import aiohttp
import pytest
from scim2_models import Context, ScimFilter

from gateway.scim.models import SchemaSet, dump_request, parse_response, validate_resource
from gateway.scim.patch import normalise_patch
from gateway.scim.query import from_query_params
from gateway.upstream import UpstreamClient
from tests.connectors.hosting import host
from vendors.base import Connector, Kind, Op, Resource, SearchQuery
from vendors.errors import AlreadyExists, NotSupported, UnknownResource, VendorAuthFailed
from vendors.registry import connector_class
from vendors.simulators import SIMULATORS

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
METHOD_OPS = (Op.GET, Op.SEARCH, Op.CREATE, Op.REPLACE, Op.PATCH, Op.DELETE)
#: Ids that would leave the resource's path segment if a connector did not quote them.
HOSTILE_IDS = ("../x", "a/../../b", "x?attributes=id", "x#y", "..", ".", "")
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

    async def requests(self) -> list[dict[str, Any]]:
        """The simulator's request log (method, path, query, auth_scheme, status), oldest first."""
        async with self.session.get(f"{self.root_url}/_sim/requests") as response:
            assert response.status == 200
            log: list[dict[str, Any]] = await response.json()
            return log

    async def clear_requests(self) -> None:
        async with self.session.delete(f"{self.root_url}/_sim/requests") as response:
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


def build_connector(cls: type[Connector], raw: dict[str, Any], session: aiohttp.ClientSession) -> Connector:
    """The connector as gateway/runtime.py `_build_app` builds it, from raw (config-shaped) settings."""
    settings = cls.Settings.model_validate(raw)
    label = f"contract/{cls.vendor}"
    auth = cls.vendor_auth(settings)
    auth.bind(lambda base_url, client_auth: UpstreamClient(session, base_url, client_auth, label))
    return cls(settings, UpstreamClient(session, cls.base_url(settings), auth, label))


def ids(resources: list[Resource]) -> list[str]:
    return [resource["id"] for resource in resources]


def member_ids(group: Resource) -> set[str]:
    return {member["value"] for member in group.get("members") or []}


class ConnectorContract:
    """The contract every connector meets. Subclasses set the class attributes and `app_settings`."""

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
                connector = build_connector(self.cls, raw, session)
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
            return await env.connector.get(kind, resource_id)
        for resource in await self.list_all(env, kind):
            if resource["id"] == resource_id:
                return resource
        raise UnknownResource(f"{kind.value} {resource_id!r} not in the listing")

    async def list_all(self, env: Harness, kind: Kind, page_size: int = _WALK_PAGE) -> list[Resource]:
        """Every resource of `kind`, walked in pages; fails if the walk does not end."""
        found: list[Resource] = []
        for _ in range(_MAX_WALK_PAGES):
            page = await env.connector.search(kind, SearchQuery(start_index=len(found) + 1, count=page_size))
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
                await env.connector.create(Kind.USER, body)

        await asyncio.gather(*(add(index) for index in range(count)))

    async def a_user(self, env: Harness, tag: str) -> Resource:
        """A user to change: created where CREATE is declared, else a seeded one."""
        if self.cls.supports(Kind.USER, Op.CREATE):
            body = self.request_body(env, Kind.USER, self.new_user(tag), Context.RESOURCE_CREATION_REQUEST)
            return await env.connector.create(Kind.USER, body)
        return (await env.connector.search(Kind.USER, SearchQuery(count=1))).resources[0]

    # -- check and credentials -------------------------------------------------------------

    async def test_check_succeeds_with_good_credentials(self, env: Harness) -> None:
        await env.clear_requests()
        await env.connector.check()
        log = await env.requests()
        assert log, "check() sent nothing to the vendor"
        assert log[-1]["auth_scheme"] == self.auth_scheme
        assert log[-1]["status"] < 400

    async def test_check_raises_vendor_auth_failed_with_wrong_credentials(self) -> None:
        spec = SIMULATORS[self.simulator]
        good = spec.demo_credentials(self.sim_users(spec.demo_settings(self.seed), self.seed_users))
        wrong = self.wrong_credentials(good)
        async with self.running(credentials=wrong) as env:
            with pytest.raises(VendorAuthFailed) as raised:
                await env.connector.check()
            error = " ".join((str(raised.value), raised.value.detail, repr(raised.value)))
            reprs = repr(env.connector.settings) + repr(env.connector.upstream.auth)
        for name in good:
            for value in (good[name], wrong[name]):
                assert value not in error, f"credential {name!r} leaked into the error"
                if name not in self.identifiers:
                    assert value not in reprs, f"credential {name!r} leaked into the settings or auth repr"

    async def test_undeclared_operations_raise_not_supported_before_any_call(self, env: Harness) -> None:
        calls = {
            Op.GET: lambda kind: env.connector.get(kind, "some-id"),
            Op.SEARCH: lambda kind: env.connector.search(kind, SearchQuery()),
            Op.CREATE: lambda kind: env.connector.create(kind, {"userName": "x", "displayName": "x"}),
            Op.REPLACE: lambda kind: env.connector.replace(kind, "some-id", {"userName": "x"}),
            Op.PATCH: lambda kind: env.connector.patch(kind, "some-id", []),
            Op.DELETE: lambda kind: env.connector.delete(kind, "some-id"),
        }
        undeclared = [(kind, op) for kind in Kind for op in METHOD_OPS if not self.cls.supports(kind, op)]
        if not undeclared:
            pytest.skip(f"{self.vendor} declares every operation")
        inherited = [
            (kind, op) for kind, op in undeclared if getattr(self.cls, op.value) is getattr(Connector, op.value)
        ]
        if not inherited:
            # Each undeclared (kind, op) is implemented for another kind; AppOperations.require guards it.
            pytest.skip(f"{self.vendor} implements every operation for some resource type")
        await env.clear_requests()
        for kind, op in inherited:
            with pytest.raises(NotSupported):
                await calls[op](kind)
        assert await env.requests() == [], "an undeclared operation reached the vendor"

    # -- search and paging -----------------------------------------------------------------

    @needs(Kind.USER, Op.SEARCH)
    async def test_search_total_counts_every_match(self, env: Harness) -> None:
        page = await env.connector.search(Kind.USER, SearchQuery(start_index=1, count=2))
        assert page.total == self.expected_users()
        assert len(page.resources) == 2
        assert all(isinstance(resource.get("id"), str) for resource in page.resources)

    @needs(Kind.USER, Op.SEARCH)
    async def test_search_pages_partition_the_listing(self, env: Harness) -> None:
        everything = await env.connector.search(Kind.USER, SearchQuery(start_index=1, count=100))
        total = self.expected_users()
        assert everything.total == total and len(everything.resources) == total
        walked: list[str] = []
        for start in range(1, total + 1, 3):
            page = await env.connector.search(Kind.USER, SearchQuery(start_index=start, count=3))
            assert page.total == total
            assert len(page.resources) == min(3, total - start + 1)
            walked.extend(ids(page.resources))
        assert walked == ids(everything.resources)
        assert len(set(walked)) == total

    @needs(Kind.USER, Op.SEARCH)
    async def test_search_beyond_the_end_is_empty_with_the_true_total(self, env: Harness) -> None:
        page = await env.connector.search(Kind.USER, SearchQuery(start_index=self.expected_users() + 1, count=5))
        assert page.resources == []
        assert page.total == self.expected_users()

    @needs(Kind.USER, Op.SEARCH)
    async def test_search_count_zero_gives_only_the_total(self, env: Harness) -> None:
        """RFC 7644 section 3.4.2.4: count=0 asks for totalResults and no resources."""
        page = await env.connector.search(Kind.USER, SearchQuery(start_index=1, count=0))
        assert page.resources == []
        assert page.total == self.expected_users()

    async def test_search_count_above_the_page_cap_returns_count_items(self) -> None:
        self.require(Kind.USER, Op.SEARCH)
        if self.page_cap is None:
            pytest.skip(f"{self.vendor} documents no page-size cap")
        cap = self.page_cap
        total = cap + 25
        async with self.running(users=total if self.seeds_many else None) as env:
            if not self.seeds_many:
                await self.create_users(env, total - self.expected_users())
            walked = ids(await self.list_all(env, Kind.USER, page_size=10))
            assert len(walked) == total
            page = await env.connector.search(Kind.USER, SearchQuery(start_index=1, count=cap + 20))
            assert page.total == total
            assert ids(page.resources) == walked[: cap + 20]
            later = await env.connector.search(Kind.USER, SearchQuery(start_index=3, count=cap + 20))
            assert ids(later.resources) == walked[2 : 2 + cap + 20]

    # -- get -------------------------------------------------------------------------------

    @needs(Kind.USER, Op.GET, Op.SEARCH)
    async def test_get_returns_the_known_resource(self, env: Harness) -> None:
        listed = (await env.connector.search(Kind.USER, SearchQuery(start_index=2, count=1))).resources[0]
        fetched = await env.connector.get(Kind.USER, listed["id"])
        assert fetched["id"] == listed["id"]
        assert fetched["userName"] == listed["userName"]

    @needs(Kind.USER, Op.GET)
    async def test_get_unknown_id_raises_unknown_resource(self, env: Harness) -> None:
        with pytest.raises(UnknownResource):
            await env.connector.get(Kind.USER, "contract-no-such-id")

    @pytest.mark.parametrize("hostile", HOSTILE_IDS)
    @needs(Kind.USER, Op.GET)
    async def test_get_id_is_quoted_and_cannot_escape_its_path(self, env: Harness, hostile: str) -> None:
        await env.clear_requests()
        with pytest.raises(UnknownResource):
            await env.connector.get(Kind.USER, hostile)
        # The simulator logs the decoded path: the whole id must still sit in one segment after the
        # endpoint, with no query split off (an unquoted ../ would be normalised away, ? and # cut off).
        # A bare dot segment cannot be sent at all, so nothing may reach the vendor for it.
        for entry in await env.requests():
            if entry["method"] == "GET":
                assert entry["path"].endswith(f"{self.user_path}/{hostile}"), entry
                assert entry["query"] == "", entry

    # -- create ----------------------------------------------------------------------------

    @needs(Kind.USER, Op.CREATE)
    async def test_create_returns_the_created_user(self, env: Harness) -> None:
        wanted = self.new_user("created")
        body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_CREATION_REQUEST)
        created = await env.connector.create(Kind.USER, body)
        assert isinstance(created.get("id"), str) and created["id"]
        assert created["userName"].lower() == wanted["userName"].lower()
        stored = await self.read(env, Kind.USER, created["id"])
        assert stored["userName"].lower() == wanted["userName"].lower()
        if self.cls.supports(Kind.USER, Op.SEARCH):
            page = await env.connector.search(Kind.USER, SearchQuery(count=1))
            assert page.total == self.expected_users() + 1

    @needs(Kind.USER, Op.CREATE)
    async def test_create_round_trips_what_the_vendor_holds(self, env: Harness) -> None:
        wanted = self.full_user("roundtrip")
        body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_CREATION_REQUEST)
        created = await env.connector.create(Kind.USER, body)
        stored = await self.read(env, Kind.USER, created["id"])
        for path in self.round_trip:
            assert _at(stored, path) == _at(wanted, path), path

    @needs(Kind.USER, Op.CREATE)
    async def test_create_duplicate_user_name_raises_already_exists(self, env: Harness) -> None:
        body = self.request_body(env, Kind.USER, self.new_user("twice"), Context.RESOURCE_CREATION_REQUEST)
        await env.connector.create(Kind.USER, body)
        with pytest.raises(AlreadyExists):
            await env.connector.create(Kind.USER, body)

    # -- replace and patch -----------------------------------------------------------------

    @needs(Kind.USER, Op.REPLACE)
    async def test_replace_changes_what_it_says(self, env: Harness) -> None:
        user = await self.a_user(env, "replaced")
        wanted = {**user, "displayName": "Replaced Name", "name": {"givenName": "Replaced", "familyName": "Name"}}
        for key in ("meta", "groups"):
            wanted.pop(key, None)
        body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_REPLACEMENT_REQUEST)
        result = await env.connector.replace(Kind.USER, user["id"], body)
        assert result["id"] == user["id"]
        assert result["displayName"] == "Replaced Name"
        stored = await self.read(env, Kind.USER, user["id"])
        assert stored["displayName"] == "Replaced Name"
        assert stored["userName"] == user["userName"]

    @needs(Kind.USER, Op.PATCH)
    async def test_patch_changes_what_it_says(self, env: Harness) -> None:
        user = await self.a_user(env, "patched")
        operations = self.patch_ops(
            env,
            Kind.USER,
            user["id"],
            {"op": "replace", "path": "displayName", "value": "Patched Name"},
            {"op": "replace", "path": "active", "value": False},
        )
        result = await env.connector.patch(Kind.USER, user["id"], operations)
        if result is not None:
            assert result["displayName"] == "Patched Name"
        stored = await self.read(env, Kind.USER, user["id"])
        assert stored["displayName"] == "Patched Name"
        assert stored["active"] is False
        assert stored["userName"] == user["userName"]

    # -- delete ----------------------------------------------------------------------------

    @needs(Kind.USER, Op.DELETE)
    async def test_delete_removes_or_deactivates_as_configured(self, env: Harness) -> None:
        await self.check_delete(env)

    @pytest.mark.parametrize("op", [Op.REPLACE, Op.PATCH, Op.DELETE])
    async def test_writes_to_an_unknown_id_raise_unknown_resource(self, env: Harness, op: Op) -> None:
        self.require(Kind.USER, op)
        missing = "contract-no-such-id"
        with pytest.raises(UnknownResource):
            if op is Op.REPLACE:
                body = self.request_body(env, Kind.USER, self.new_user("ghost"), Context.RESOURCE_REPLACEMENT_REQUEST)
                await env.connector.replace(Kind.USER, missing, body)
            elif op is Op.PATCH:
                operation = {"op": "replace", "path": "displayName", "value": "Ghost"}
                await env.connector.patch(Kind.USER, missing, self.patch_ops(env, Kind.USER, missing, operation))
            else:
                await env.connector.delete(Kind.USER, missing)
        if self.cls.supports(Kind.USER, Op.SEARCH):
            assert (await env.connector.search(Kind.USER, SearchQuery(count=0))).total == self.expected_users()

    async def check_delete(self, env: Harness) -> None:
        user = await self.a_user(env, "deleted")
        await env.connector.delete(Kind.USER, user["id"])
        if self.deletes_permanently(env.connector):
            with pytest.raises(UnknownResource):
                await self.read(env, Kind.USER, user["id"])
        else:
            assert (await self.read(env, Kind.USER, user["id"]))["active"] is False

    # -- filter pushdown -------------------------------------------------------------------

    @needs(Kind.USER, Op.SEARCH, Op.FILTER)
    async def test_filters_pushed_down_match_in_memory_evaluation(self, env: Harness) -> None:
        everyone = await self.list_all(env, Kind.USER)
        first, second = everyone[0], everyone[1]
        values = {
            "userName": first["userName"],
            "USERNAME": first["userName"].upper(),
            "prefix": first["userName"][:3],
            "middle": (first.get("displayName") or first["userName"])[1:4],
            "externalId": first.get("externalId", "none"),
            "other": second["userName"],
        }
        pushed = 0
        for template in self.filters:
            text = template.format(**values)
            scim_filter = self.parse_filter(env, Kind.USER, text)
            if not env.connector.filterable(Kind.USER, scim_filter):
                continue
            model = env.schemas[Kind.USER]
            expected = [r["id"] for r in everyone if scim_filter.match(parse_response(model, r))]
            page = await env.connector.search(Kind.USER, SearchQuery(filter=scim_filter, count=100))
            assert sorted(ids(page.resources)) == sorted(expected), text
            assert page.total == len(expected), text
            if len(expected) > 1:
                window = await env.connector.search(Kind.USER, SearchQuery(filter=scim_filter, start_index=2, count=2))
                assert window.total == len(expected), text
                assert len(window.resources) == min(2, len(expected) - 1), text
                assert set(ids(window.resources)) <= set(expected), text
                first_page = await env.connector.search(Kind.USER, SearchQuery(filter=scim_filter, count=1))
                assert not set(ids(first_page.resources)) & set(ids(window.resources)), text
            pushed += 1
        assert pushed, f"{self.vendor} declares filter but accepts none of the contract's filters"

    @needs(Kind.USER, Op.SEARCH, Op.FILTER)
    @needs(Kind.USER, Op.CREATE)
    async def test_filter_values_with_quotes_and_backslashes_are_escaped(self, env: Harness) -> None:
        wanted = self.new_user("quoted")
        wanted["userName"] = "o'quote.contract@contract.example"
        wanted["emails"] = [{"value": wanted["userName"], "type": "work", "primary": True}]
        wanted["displayName"] = 'Say "hi" \\ O\'Quote'
        body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_CREATION_REQUEST)
        created = await env.connector.create(Kind.USER, body)
        pushed = 0
        for attribute in ("userName", "displayName"):
            text = f"{attribute} eq {json.dumps(wanted[attribute])}"
            scim_filter = self.parse_filter(env, Kind.USER, text)
            if not env.connector.filterable(Kind.USER, scim_filter):
                continue
            page = await env.connector.search(Kind.USER, SearchQuery(filter=scim_filter))
            assert ids(page.resources) == [created["id"]], text
            pushed += 1
        if not pushed:
            pytest.skip(f"{self.vendor} filters neither userName nor displayName upstream")

    # -- groups ----------------------------------------------------------------------------

    @needs(Kind.GROUP, Op.CREATE)
    async def test_group_create_returns_the_group_with_its_members(self, env: Harness) -> None:
        user = await self.a_user(env, "grouped")
        wanted = {"schemas": [GROUP_SCHEMA], "displayName": "Contract Group", "members": [{"value": user["id"]}]}
        body = self.request_body(env, Kind.GROUP, wanted, Context.RESOURCE_CREATION_REQUEST)
        created = await env.connector.create(Kind.GROUP, body)
        assert isinstance(created.get("id"), str) and created["id"]
        stored = await self.read(env, Kind.GROUP, created["id"])
        assert stored["displayName"] == "Contract Group"
        assert member_ids(stored) == {user["id"]}

    @needs(Kind.GROUP, Op.SEARCH)
    async def test_group_members_add_and_remove(self, env: Harness) -> None:
        if not (self.cls.supports(Kind.GROUP, Op.PATCH) or self.cls.supports(Kind.GROUP, Op.REPLACE)):
            pytest.skip(f"{self.vendor} does not declare patch or replace for Group")
        group = self.membership_group(await self.list_all(env, Kind.GROUP))
        outsider = next(u for u in await self.list_all(env, Kind.USER) if u["id"] not in member_ids(group))
        await self.change_members(env, group, add=outsider["id"])
        after_add = await self.read(env, Kind.GROUP, group["id"])
        assert member_ids(after_add) == member_ids(group) | {outsider["id"]}
        await self.change_members(env, after_add, remove=outsider["id"])
        after_remove = await self.read(env, Kind.GROUP, group["id"])
        assert member_ids(after_remove) == member_ids(group)

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
            await env.connector.patch(Kind.GROUP, group["id"], self.patch_ops(env, Kind.GROUP, group["id"], operation))
            return
        members = [
            {"value": value} for value in sorted(member_ids(group) | ({add} if add else set())) if value != remove
        ]
        wanted = {"schemas": [GROUP_SCHEMA], "id": group["id"], "displayName": group["displayName"], "members": members}
        body = self.request_body(env, Kind.GROUP, wanted, Context.RESOURCE_REPLACEMENT_REQUEST)
        await env.connector.replace(Kind.GROUP, group["id"], body)

    @needs(Kind.GROUP, Op.DELETE, Op.SEARCH)
    async def test_group_delete_removes_it(self, env: Harness) -> None:
        group = (await env.connector.search(Kind.GROUP, SearchQuery(count=1))).resources[0]
        await env.connector.delete(Kind.GROUP, group["id"])
        with pytest.raises(UnknownResource):
            await self.read(env, Kind.GROUP, group["id"])


def _at(resource: dict[str, Any], path: str) -> Any:
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
