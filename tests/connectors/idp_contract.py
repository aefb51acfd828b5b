"""IdP habits every app must answer alike: through the gateway's operations (gateway/operations.py, and
create_once for creates) over each connector, against its simulator, over loopback HTTP.

Part of the shared contract suite (`ConnectorContract` inherits it). Each test asks only what the
gateway offers for the app (natively or synthesised) and what the vendor holds (its AttributeProfile),
and skips the rest. The request shapes are Entra's; their sources are cited in tests/idp_traffic.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from scim2_models import Context

from gateway.create import create_once
from gateway.operations import AppOperations
from gateway.outbound.errors import AlreadyExists
from gateway.scim.patch import normalise_patch
from tests.connectors.harness import GROUP_SCHEMA, ContractHarness, Harness
from vendors.base import Kind, Op, Resource
from vendors.scim_passthrough import ScimPassthroughConnector

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MANAGER = f"{ENTERPRISE}:manager"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
#: Ways of clearing a manager: the empty string is what Entra sends (issue 15 item 17); the rest are variants.
MANAGER_CLEARS = {
    "empty_string": {"op": "Replace", "path": MANAGER, "value": ""},
    "empty_value": {"op": "Replace", "path": MANAGER, "value": {"value": ""}},
    "null": {"op": "Replace", "path": MANAGER, "value": None},
    "pathless_urn_key": {"op": "Replace", "value": {MANAGER: ""}},
    "pathless_extension_object": {"op": "Replace", "value": {ENTERPRISE: {"manager": ""}}},
}


class IdpCompatContract(ContractHarness):
    """Entra's and Okta's shapes that vendors answer differently on their own."""

    def gateway(self, env: Harness) -> AppOperations:
        return AppOperations(env.connector, env.schemas)

    def offers(self, env: Harness, kind: Kind, op: Op) -> AppOperations:
        operations = self.gateway(env)
        if op not in operations.offered[kind]:
            pytest.skip(f"the gateway cannot {op.value} {kind.value} resources of {self.vendor}")
        return operations

    def require_held(self, env: Harness, attribute: str) -> None:
        """Skip unless the vendor stores `attribute` (a bare name, or a URN-prefixed extension attribute)."""
        profile = self.cls.user_profile(env.connector.settings)
        if profile is None or any(name == attribute or name.startswith(attribute + ".") for name in profile.held):
            return
        pytest.skip(f"{self.vendor} does not hold {attribute}")

    async def entra_patch(self, env: Harness, user: Resource, *operations: dict[str, Any]) -> Resource:
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}
        patch = normalise_patch(env.schemas[Kind.USER], body, user["id"])
        return await self.gateway(env).patch(env.budget(), Kind.USER, user["id"], patch)

    # -- item 17: the manager cleared with an empty value is absent --------------------------------

    @pytest.mark.parametrize("clear", list(MANAGER_CLEARS.values()), ids=list(MANAGER_CLEARS))
    async def test_entra_manager_cleared_with_an_empty_value_is_absent(
        self, env: Harness, clear: dict[str, Any]
    ) -> None:
        """Entra clears a manager with `"value": ""` (tests/idp_traffic.py ENTRA_MANAGER_CLEARED): RFC 7643
        section 2.5 makes "" and null unassigned, so the user reads back without a manager, not `{"value": ""}`."""
        self.offers(env, Kind.USER, Op.PATCH)
        self.require_held(env, MANAGER)
        user = await self.a_user(env, "managed")
        boss = next(u for u in await self.list_all(env, Kind.USER) if u["id"] != user["id"])
        await self.entra_patch(env, user, {"op": "Add", "path": MANAGER, "value": boss["id"]})
        managed = await self.gateway(env).get(env.budget(), Kind.USER, user["id"])
        assert managed[ENTERPRISE]["manager"]["value"] == boss["id"]
        for _ in range(2):  # the second clear meets a user without a manager: still a success
            answered = await self.entra_patch(env, user, clear)
            stored = await self.gateway(env).get(env.budget(), Kind.USER, user["id"])
            for document in (answered, stored):
                assert "manager" not in (document.get(ENTERPRISE) or {}), document.get(ENTERPRISE)
            assert stored["userName"] == user["userName"]

    # -- item 18: value filters that match nothing -------------------------------------------------

    async def test_entra_replace_of_a_missing_work_address_adds_it(self, env: Harness) -> None:
        """Entra replaces `addresses[type eq "work"].<sub>` on a user without a work address and expects it
        added (tests/idp_traffic.py ENTRA_WORK_ADDRESS). Several sub-attributes in one PATCH make one address;
        a later replace changes it in place."""
        self.offers(env, Kind.USER, Op.PATCH)
        self.require_held(env, "addresses")
        user = await self.a_user(env, "addressed")
        work = 'addresses[type eq "work"]'
        answered = await self.entra_patch(
            env,
            user,
            {"op": "Replace", "path": f"{work}.streetAddress", "value": "1 Main St"},
            {"op": "Replace", "path": f"{work}.locality", "value": "Springfield"},
        )
        stored = await self.gateway(env).get(env.budget(), Kind.USER, user["id"])
        for document in (answered, stored):
            assert _work_addresses(document) == [("1 Main St", "Springfield")], document.get("addresses")
        await self.entra_patch(env, user, {"op": "Replace", "path": f"{work}.streetAddress", "value": "2 Side St"})
        stored = await self.gateway(env).get(env.budget(), Kind.USER, user["id"])
        assert _work_addresses(stored) == [("2 Side St", "Springfield")], stored.get("addresses")

    async def test_entra_replace_of_an_existing_work_email_stays_a_vendor_patch(self, env: Harness) -> None:
        """Entra's update shape `emails[type eq "work"].value` (limosa-io/laravel-scim-server issue #34) matches
        what the user holds: a vendor with PATCH gets it as a PATCH, never as a whole-resource PUT."""
        self.offers(env, Kind.USER, Op.PATCH)
        if not self.cls.supports(Kind.USER, Op.PATCH):
            pytest.skip(f"{self.vendor} has no PATCH of its own")
        user = await self.a_user(env, "emailed")
        new_email = "emailed.renamed@contract.example"
        await env.clear_requests()
        answered = await self.entra_patch(
            env, user, {"op": "Replace", "path": 'emails[type eq "work"].value', "value": new_email}
        )
        assert [e["value"] for e in answered["emails"] if e.get("type") == "work"] == [new_email]
        writes = [e["method"] for e in await env.requests() if e["method"] in ("PUT", "PATCH", "POST")]
        assert writes == ["PATCH"], writes

    async def test_remove_whose_filter_matches_nothing_changes_nothing(self, env: Harness) -> None:
        """RFC 7644 section 3.5.2.2: removing values a filter does not match leaves the resource as it was."""
        self.offers(env, Kind.USER, Op.PATCH)
        self.require_held(env, "emails")
        user = await self.a_user(env, "unremoved")
        before = await self.gateway(env).get(env.budget(), Kind.USER, user["id"])
        answered = await self.entra_patch(env, user, {"op": "remove", "path": 'emails[type eq "home"]'})
        stored = await self.gateway(env).get(env.budget(), Kind.USER, user["id"])
        for document in (answered, stored):
            assert document["emails"] == before["emails"]
            assert document["userName"] == before["userName"]

    async def test_remove_the_vendor_refuses_with_no_target_is_still_a_no_op(self, env: Harness) -> None:
        """A SCIM vendor that reads RFC 7644 literally answers 400 noTarget to a remove matching nothing:
        the gateway then applies it itself, so the IdP sees 200 as on every other app."""
        self.offers(env, Kind.USER, Op.PATCH)
        if not (issubclass(self.cls, ScimPassthroughConnector) and self.cls.supports(Kind.USER, Op.PATCH)):
            pytest.skip(f"{self.vendor} does not forward SCIM PATCH")
        user = await self.a_user(env, "strict")
        before = await self.gateway(env).get(env.budget(), Kind.USER, user["id"])
        refusal = {"schemas": [ERROR_SCHEMA], "status": "400", "scimType": "noTarget", "detail": "no match"}
        await env.inject_fault({"status": 400, "method": "PATCH", "body": refusal})
        answered = await self.entra_patch(env, user, {"op": "remove", "path": 'emails[type eq "home"]'})
        assert answered["emails"] == before["emails"]
        assert [entry["status"] for entry in await env.requests() if entry["method"] == "PATCH"][:1] == [400]

    # -- item 19: group displayName is unique --------------------------------------------------------

    async def test_group_create_with_a_taken_display_name_is_refused(self, env: Harness) -> None:
        """Creating a group whose displayName exists (in any case: RFC 7643 section 4.2, caseExact false)
        answers 409 uniqueness on every app, even where the vendor would store the duplicate."""
        operations = self.offers(env, Kind.GROUP, Op.CREATE)
        if Op.SEARCH not in operations.offered[Kind.GROUP]:
            pytest.skip(f"the gateway cannot list {self.vendor}'s groups")
        name = "Contract Unique Group"
        await create_once(env.budget(), operations, Kind.GROUP, self._group_body(env, name, "ext-first"))
        for again, external_id in ((name, "ext-first"), (name.upper(), "ext-second")):
            await env.clear_requests()
            with pytest.raises(AlreadyExists) as refused:
                await create_once(env.budget(), operations, Kind.GROUP, self._group_body(env, again, external_id))
            assert refused.value.status == 409 and refused.value.scim_type == "uniqueness"
            assert [e for e in await env.requests() if e["method"] == "POST" and e["path"] != self.token_path] == []
        names = [group["displayName"].casefold() for group in await self.list_all(env, Kind.GROUP)]
        assert names.count(name.casefold()) == 1

    def _group_body(self, env: Harness, name: str, external_id: str) -> dict[str, Any]:
        wanted = {"schemas": [GROUP_SCHEMA], "displayName": name, "externalId": external_id, "members": []}
        return self.request_body(env, Kind.GROUP, wanted, Context.RESOURCE_CREATION_REQUEST)


def _work_addresses(user: Resource) -> list[tuple[Any, Any]]:
    return [(a.get("streetAddress"), a.get("locality")) for a in user.get("addresses") or [] if a.get("type") == "work"]
