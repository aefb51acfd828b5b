"""The shared connector contract suite: every connector, against its own simulator, over loopback HTTP.

A backend's test module subclasses `ConnectorContract`, names its connector
(`vendor`, the registry kind) and simulator, and says how to build the app's
settings from the simulator's URL and demo credentials (tests/connectors/
harness.py lists every knob). Each test asks only what the connector
*declares* (vendors/base.py `capabilities`) and skips the rest with
"<vendor> does not declare <op> for <kind>"; undeclared operations must raise
NotSupported before any vendor call. The connector is tested directly, not
through the gateway's HTTP face.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from scim2_models import Context

from gateway.outbound.errors import AlreadyExists, NotSupported, UnknownResource, VendorAuthFailed
from gateway.scim.models import parse_response
from tests.connectors.harness import (
    GROUP_SCHEMA,
    METHOD_OPS,
    Harness,
    ids,
    member_ids,
    needs,
    value_at,
)
from tests.connectors.idp_contract import IdpCompatContract
from vendors.base import Connector, Kind, Op, SearchQuery
from vendors.simulators import SIMULATORS

#: Ids that would leave the resource's path segment if a connector did not quote them.
HOSTILE_IDS = ("../x", "a/../../b", "x?attributes=id", "x#y", "..", ".", "")


class ConnectorContract(IdpCompatContract):
    """The contract every connector meets. Subclasses set the class attributes and `app_settings`.

    IdP habits (tests/connectors/idp_contract.py) are part of it: the same answer on every app.
    """

    # -- check and credentials -------------------------------------------------------------

    async def test_check_succeeds_with_good_credentials(self, env: Harness) -> None:
        await env.clear_requests()
        await env.connector.check(env.budget())
        log = [entry for entry in await env.requests() if entry["path"] != self.token_path]
        assert log, "check() sent nothing to the vendor"
        assert all(entry["method"] == "GET" for entry in log), "a connectivity check must only read"
        assert log[-1]["auth_scheme"] == self.auth_scheme
        assert log[-1]["status"] < 400

    async def test_check_raises_vendor_auth_failed_with_wrong_credentials(self) -> None:
        spec = SIMULATORS[self.simulator]
        good = spec.demo_credentials(self.sim_users(spec.demo_settings(self.seed), self.seed_users))
        wrong = self.wrong_credentials(good)
        async with self.running(credentials=wrong) as env:
            with pytest.raises(VendorAuthFailed) as raised:
                await env.connector.check(env.budget())
            error = " ".join((str(raised.value), raised.value.detail, repr(raised.value)))
            reprs = repr(env.connector.settings) + repr(env.connector.upstream.auth)
        for name in good:
            for value in (good[name], wrong[name]):
                assert value not in error, f"credential {name!r} leaked into the error"
                if name not in self.identifiers:
                    assert value not in reprs, f"credential {name!r} leaked into the settings or auth repr"

    async def test_undeclared_operations_raise_not_supported_before_any_call(self, env: Harness) -> None:
        """Each undeclared (kind, op) answers NotSupported naming the vendor, with no vendor call.

        The base method is what stands for an undeclared kind (the gateway's AppOperations never calls a
        connector's own method for it); an operation declared for no kind must not be implemented at all.
        """
        arguments: dict[Op, tuple[object, ...]] = {
            Op.GET: ("some-id",),
            Op.SEARCH: (SearchQuery(),),
            Op.CREATE: ({"userName": "x", "displayName": "x"},),
            Op.REPLACE: ("some-id", {"userName": "x"}),
            Op.PATCH: ("some-id", []),
            Op.DELETE: ("some-id",),
        }
        undeclared = [(kind, op) for kind in Kind for op in METHOD_OPS if not self.cls.supports(kind, op)]
        if not undeclared:
            pytest.skip(f"{self.vendor} declares every operation")
        await env.clear_requests()
        for kind, op in undeclared:
            base = getattr(Connector, op.value)
            if not any(self.cls.supports(other, op) for other in Kind):
                assert getattr(self.cls, op.value) is base, f"{op.value} is implemented but declared for no kind"
            with pytest.raises(NotSupported) as raised:
                await base(env.connector, env.budget(), kind, *arguments[op])
            assert self.cls.vendor in raised.value.detail
        assert await env.requests() == [], "an undeclared operation reached the vendor"

    # -- search and paging -----------------------------------------------------------------

    @needs(Kind.USER, Op.SEARCH)
    async def test_search_total_counts_every_match(self, env: Harness) -> None:
        page = await env.connector.search(env.budget(), Kind.USER, SearchQuery(start_index=1, count=2))
        assert page.total == self.expected_users()
        assert len(page.resources) == 2
        assert all(isinstance(resource.get("id"), str) for resource in page.resources)

    @needs(Kind.USER, Op.SEARCH)
    async def test_search_pages_partition_the_listing(self, env: Harness) -> None:
        everything = await env.connector.search(env.budget(), Kind.USER, SearchQuery(start_index=1, count=100))
        total = self.expected_users()
        assert everything.total == total and len(everything.resources) == total
        walked: list[str] = []
        for start in range(1, total + 1, 3):
            page = await env.connector.search(env.budget(), Kind.USER, SearchQuery(start_index=start, count=3))
            assert page.total == total
            assert len(page.resources) == min(3, total - start + 1)
            walked.extend(ids(page.resources))
        assert walked == ids(everything.resources)
        assert len(set(walked)) == total

    @needs(Kind.USER, Op.SEARCH)
    async def test_search_beyond_the_end_is_empty_with_the_true_total(self, env: Harness) -> None:
        page = await env.connector.search(
            env.budget(), Kind.USER, SearchQuery(start_index=self.expected_users() + 1, count=5)
        )
        assert page.resources == []
        assert page.total == self.expected_users()

    @needs(Kind.USER, Op.SEARCH)
    async def test_search_count_zero_gives_only_the_total(self, env: Harness) -> None:
        """RFC 7644 section 3.4.2.4: count=0 asks for totalResults and no resources."""
        page = await env.connector.search(env.budget(), Kind.USER, SearchQuery(start_index=1, count=0))
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
            page = await env.connector.search(env.budget(), Kind.USER, SearchQuery(start_index=1, count=cap + 20))
            assert page.total == total
            assert ids(page.resources) == walked[: cap + 20]
            later = await env.connector.search(env.budget(), Kind.USER, SearchQuery(start_index=3, count=cap + 20))
            assert ids(later.resources) == walked[2 : 2 + cap + 20]
            tail = await env.connector.search(
                env.budget(), Kind.USER, SearchQuery(start_index=total - 4, count=cap + 20)
            )
            assert tail.total == total
            assert ids(tail.resources) == walked[total - 5 :]

    # -- get -------------------------------------------------------------------------------

    @needs(Kind.USER, Op.GET, Op.SEARCH)
    async def test_get_returns_the_known_resource(self, env: Harness) -> None:
        listed = (await env.connector.search(env.budget(), Kind.USER, SearchQuery(start_index=2, count=1))).resources[0]
        fetched = await env.connector.get(env.budget(), Kind.USER, listed["id"])
        assert fetched["id"] == listed["id"]
        assert fetched["userName"] == listed["userName"]

    @needs(Kind.USER, Op.GET)
    async def test_get_unknown_id_raises_unknown_resource(self, env: Harness) -> None:
        with pytest.raises(UnknownResource):
            await env.connector.get(env.budget(), Kind.USER, "contract-no-such-id")

    @pytest.mark.parametrize("hostile", HOSTILE_IDS)
    @needs(Kind.USER, Op.GET)
    async def test_get_id_is_quoted_and_cannot_escape_its_path(self, env: Harness, hostile: str) -> None:
        await env.clear_requests()
        with pytest.raises(UnknownResource):
            await env.connector.get(env.budget(), Kind.USER, hostile)
        # The simulator logs the decoded path: the whole id must still sit in one segment after the
        # endpoint, with no query split off (an unquoted ../ would be normalised away, ? and # cut off).
        # A bare dot segment cannot be sent at all, so nothing may reach the vendor for it.
        for entry in await env.requests():
            if entry["method"] == "GET":
                assert entry["path"].endswith(f"{self.user_path}/{hostile}"), entry
                assert entry["query"] == "", entry

    @pytest.mark.parametrize("op", [Op.REPLACE, Op.DELETE])
    @pytest.mark.parametrize("hostile", ["../x", "a/../../b", "x?y=1"])
    async def test_write_ids_are_quoted_and_cannot_escape_their_path(self, env: Harness, op: Op, hostile: str) -> None:
        """An unquoted `../x` on DELETE would delete whatever the vendor keeps at the parent path."""
        self.require(Kind.USER, op)
        body = self.request_body(env, Kind.USER, self.new_user("hostile"), Context.RESOURCE_REPLACEMENT_REQUEST)
        await env.clear_requests()
        with pytest.raises(UnknownResource):
            if op is Op.REPLACE:
                await env.connector.replace(env.budget(), Kind.USER, hostile, body)
            else:
                await env.connector.delete(env.budget(), Kind.USER, hostile)
        log = [entry for entry in await env.requests() if entry["path"] != self.token_path]
        assert log, "nothing reached the vendor"
        for entry in log:
            assert entry["path"].endswith(f"{self.user_path}/{hostile}"), entry
            assert entry["query"] == "", entry
        if self.cls.supports(Kind.USER, Op.SEARCH):
            assert (
                await env.connector.search(env.budget(), Kind.USER, SearchQuery(count=0))
            ).total == self.expected_users()

    # -- create ----------------------------------------------------------------------------

    @needs(Kind.USER, Op.CREATE)
    async def test_create_returns_the_created_user(self, env: Harness) -> None:
        wanted = self.new_user("created")
        body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_CREATION_REQUEST)
        created = await env.connector.create(env.budget(), Kind.USER, body)
        assert isinstance(created.get("id"), str) and created["id"]
        assert created["userName"].lower() == wanted["userName"].lower()
        stored = await self.read(env, Kind.USER, created["id"])
        assert stored["userName"].lower() == wanted["userName"].lower()
        if self.cls.supports(Kind.USER, Op.SEARCH):
            page = await env.connector.search(env.budget(), Kind.USER, SearchQuery(count=1))
            assert page.total == self.expected_users() + 1

    @needs(Kind.USER, Op.CREATE)
    async def test_create_round_trips_what_the_vendor_holds(self, env: Harness) -> None:
        wanted = self.full_user("roundtrip")
        body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_CREATION_REQUEST)
        created = await env.connector.create(env.budget(), Kind.USER, body)
        stored = await self.read(env, Kind.USER, created["id"])
        for path in self.round_trip:
            assert value_at(stored, path) == value_at(wanted, path), path

    @needs(Kind.USER, Op.CREATE)
    async def test_create_duplicate_user_name_raises_already_exists(self, env: Harness) -> None:
        body = self.request_body(env, Kind.USER, self.new_user("twice"), Context.RESOURCE_CREATION_REQUEST)
        await env.connector.create(env.budget(), Kind.USER, body)
        with pytest.raises(AlreadyExists):
            await env.connector.create(env.budget(), Kind.USER, body)

    @needs(Kind.USER, Op.CREATE, Op.SEARCH)
    async def test_concurrent_duplicate_creates_leave_one_user(self, env: Harness) -> None:
        """An IdP retrying a create (or two workers racing) must not end with two accounts."""
        body = self.request_body(env, Kind.USER, self.new_user("racing"), Context.RESOURCE_CREATION_REQUEST)
        attempts = [env.connector.create(env.budget(), Kind.USER, body) for _ in range(4)]
        outcomes = await asyncio.gather(*attempts, return_exceptions=True)
        created = [outcome for outcome in outcomes if isinstance(outcome, dict)]
        refused = [outcome for outcome in outcomes if isinstance(outcome, AlreadyExists)]
        assert len(created) == 1 and len(refused) == 3, outcomes
        names = [user["userName"].lower() for user in await self.list_all(env, Kind.USER)]
        assert names.count(body["userName"].lower()) == 1

    # -- replace and patch -----------------------------------------------------------------

    @needs(Kind.USER, Op.REPLACE)
    async def test_replace_changes_what_it_says(self, env: Harness) -> None:
        user = await self.a_user(env, "replaced")
        wanted = {**user, "displayName": "Replaced Name", "name": {"givenName": "Replaced", "familyName": "Name"}}
        for key in ("meta", "groups"):
            wanted.pop(key, None)
        body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_REPLACEMENT_REQUEST)
        result = await env.connector.replace(env.budget(), Kind.USER, user["id"], body)
        assert result["id"] == user["id"]
        assert result["displayName"] == "Replaced Name"
        stored = await self.read(env, Kind.USER, user["id"])
        assert stored["displayName"] == "Replaced Name"
        assert stored["userName"] == user["userName"]

    @needs(Kind.USER, Op.REPLACE)
    async def test_replace_can_rename_and_deactivate(self, env: Harness) -> None:
        """Okta and Entra rename users (userName and primary email) and deactivate them with PUT."""
        user = await self.a_user(env, "renamed")
        new_name = "renamed.later@contract.example"
        wanted = {key: value for key, value in user.items() if key not in ("meta", "groups")}
        wanted.update(userName=new_name, active=False, emails=[{"value": new_name, "type": "work", "primary": True}])
        body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_REPLACEMENT_REQUEST)
        await env.connector.replace(env.budget(), Kind.USER, user["id"], body)
        stored = await self.read(env, Kind.USER, user["id"])
        assert stored["userName"] == new_name
        assert stored["active"] is False
        assert value_at(stored, "emails") == [new_name]

    @needs(Kind.USER, Op.REPLACE)
    async def test_replace_clears_what_it_leaves_out(self, env: Harness) -> None:
        """RFC 7644 section 3.5.1: PUT replaces the whole resource; an omitted attribute is cleared."""
        if self.clearable is None:
            pytest.skip(f"{self.vendor} holds no optional attribute to clear")
        user = await self.a_user(env, "cleared")
        wanted = {key: value for key, value in user.items() if key not in ("meta", "groups")}
        with_it = self.request_body(
            env, Kind.USER, {**wanted, self.clearable: "Set"}, Context.RESOURCE_REPLACEMENT_REQUEST
        )
        await env.connector.replace(env.budget(), Kind.USER, user["id"], with_it)
        assert (await self.read(env, Kind.USER, user["id"])).get(self.clearable) == "Set"
        wanted.pop(self.clearable, None)
        without = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_REPLACEMENT_REQUEST)
        await env.connector.replace(env.budget(), Kind.USER, user["id"], without)
        assert (await self.read(env, Kind.USER, user["id"])).get(self.clearable) is None

    @needs(Kind.USER, Op.PATCH)
    async def test_patch_remove_clears_the_attribute(self, env: Harness) -> None:
        if self.clearable is None:
            pytest.skip(f"{self.vendor} holds no optional attribute to clear")
        user = await self.a_user(env, "unset")
        add = {"op": "add", "path": self.clearable, "value": "Set"}
        await env.connector.patch(env.budget(), Kind.USER, user["id"], self.patch_ops(env, Kind.USER, user["id"], add))
        assert (await self.read(env, Kind.USER, user["id"])).get(self.clearable) == "Set"
        remove = {"op": "remove", "path": self.clearable}
        await env.connector.patch(
            env.budget(), Kind.USER, user["id"], self.patch_ops(env, Kind.USER, user["id"], remove)
        )
        stored = await self.read(env, Kind.USER, user["id"])
        assert stored.get(self.clearable) is None
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
        result = await env.connector.patch(env.budget(), Kind.USER, user["id"], operations)
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
                await env.connector.replace(env.budget(), Kind.USER, missing, body)
            elif op is Op.PATCH:
                operation = {"op": "replace", "path": "displayName", "value": "Ghost"}
                await env.connector.patch(
                    env.budget(), Kind.USER, missing, self.patch_ops(env, Kind.USER, missing, operation)
                )
            else:
                await env.connector.delete(env.budget(), Kind.USER, missing)
        if self.cls.supports(Kind.USER, Op.SEARCH):
            assert (
                await env.connector.search(env.budget(), Kind.USER, SearchQuery(count=0))
            ).total == self.expected_users()

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
            page = await env.connector.search(env.budget(), Kind.USER, SearchQuery(filter=scim_filter, count=100))
            assert sorted(ids(page.resources)) == sorted(expected), text
            assert page.total == len(expected), text
            if len(expected) > 1:
                window = await env.connector.search(
                    env.budget(), Kind.USER, SearchQuery(filter=scim_filter, start_index=2, count=2)
                )
                assert window.total == len(expected), text
                assert len(window.resources) == min(2, len(expected) - 1), text
                assert set(ids(window.resources)) <= set(expected), text
                first_page = await env.connector.search(
                    env.budget(), Kind.USER, SearchQuery(filter=scim_filter, count=1)
                )
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
        created = await env.connector.create(env.budget(), Kind.USER, body)
        pushed = 0
        for attribute in ("userName", "displayName"):
            text = f"{attribute} eq {json.dumps(wanted[attribute])}"
            scim_filter = self.parse_filter(env, Kind.USER, text)
            if not env.connector.filterable(Kind.USER, scim_filter):
                continue
            page = await env.connector.search(env.budget(), Kind.USER, SearchQuery(filter=scim_filter))
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
        created = await env.connector.create(env.budget(), Kind.GROUP, body)
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

    @needs(Kind.GROUP, Op.DELETE, Op.SEARCH)
    async def test_group_delete_removes_it(self, env: Harness) -> None:
        group = (await env.connector.search(env.budget(), Kind.GROUP, SearchQuery(count=1))).resources[0]
        await env.connector.delete(env.budget(), Kind.GROUP, group["id"])
        with pytest.raises(UnknownResource):
            await self.read(env, Kind.GROUP, group["id"])
