"""gateway/directory/resources.py: lookups, uniqueness, versions and hard deletes, on both engines."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from gateway.directory.errors import Conflict, NotFound, StaleVersion
from gateway.directory.records import Origin, State
from gateway.directory.schema import resources

ALICE = State("Alice.Ärger@Example.com", "Ext-1", {"name": {"givenName": "Alice"}, "title": "Boss"})


async def test_insert_then_get_returns_what_was_written(directory):
    orca = directory.resources("acme", "orca")
    entry = await orca.insert("User", ALICE, vendor_id="v-1", origin=Origin.VENDOR)
    assert (entry.version, entry.etag, entry.origin, entry.visible) == (1, 'W/"1"', Origin.VENDOR, True)
    found = await orca.get("User", entry.id)
    assert found == entry
    assert found.state.user_name == ALICE.user_name and found.state.attributes == ALICE.attributes
    assert found.created.tzinfo is not None and found.created == found.updated
    assert await orca.get("User", uuid.uuid4()) is None
    assert await orca.get("Group", entry.id) is None


async def test_user_name_lookup_is_case_insensitive_and_external_id_is_exact(directory):
    orca = directory.resources("acme", "orca")
    entry = await orca.insert("User", ALICE, vendor_id="v-1", origin=Origin.GATEWAY)
    for spelling in ("alice.ärger@example.com", "ALICE.ÄRGER@EXAMPLE.COM", "alice.a\u0308rger@example.com"):
        assert (await orca.by_user_name(spelling)).id == entry.id
    assert await orca.by_user_name("alice.arger@example.com") is None
    assert [found.id for found in await orca.by_external_id("User", "Ext-1")] == [entry.id]
    assert await orca.by_external_id("User", "ext-1") == []  # externalId is caseExact
    assert (await orca.by_vendor_id("User", "v-1")).id == entry.id
    assert list(await orca.by_vendor_ids("User", ["v-1", "v-404"])) == ["v-1"]


async def test_lookups_never_cross_tenants_or_apps(directory):
    await directory.resources("acme", "orca").insert("User", ALICE, vendor_id="v-1", origin=Origin.GATEWAY)
    for tenant, app in (("acme", "delinea"), ("globex", "orca")):
        other = directory.resources(tenant, app)
        assert await other.by_user_name(ALICE.user_name) is None
        assert await other.by_external_id("User", "Ext-1") == []
        assert await other.by_vendor_id("User", "v-1") is None
        # ...and the same userName and vendor id are free there.
        await other.insert("User", ALICE, vendor_id="v-1", origin=Origin.GATEWAY)


async def test_user_name_and_vendor_id_are_unique_per_app(directory):
    orca = directory.resources("acme", "orca")
    first = await orca.insert("User", ALICE, vendor_id="v-1", origin=Origin.GATEWAY)
    with pytest.raises(Conflict) as caught:
        await orca.insert("User", State("ALICE.ÄRGER@example.com"), vendor_id="v-2", origin=Origin.GATEWAY)
    assert caught.value.attribute == "userName"
    with pytest.raises(Conflict) as caught:
        await orca.insert("User", State("bob"), vendor_id="v-1", origin=Origin.GATEWAY)
    assert caught.value.attribute == "vendorId"
    with pytest.raises(Conflict) as caught:
        await orca.insert("User", State("carol"), vendor_id="v-3", origin=Origin.GATEWAY, id=first.id)
    assert caught.value.attribute == "id"
    bob = await orca.insert("User", State("bob"), vendor_id="v-2", origin=Origin.GATEWAY)
    with pytest.raises(Conflict) as caught:
        await orca.update("User", bob.id, State("alice.ärger@example.com"), expected_version=1)
    assert caught.value.attribute == "userName"
    # Groups have no userName: any number of them.
    for _ in range(2):
        await orca.insert("Group", State(attributes={"displayName": "ops"}), vendor_id=None, origin=Origin.GATEWAY)


async def test_update_needs_the_current_version(directory):
    orca = directory.resources("acme", "orca")
    entry = await orca.insert("User", ALICE, vendor_id="v-1", origin=Origin.GATEWAY)
    renamed = State("alice@example.com", None, {"title": "CEO"}, active=False)
    updated = await orca.update("User", entry.id, renamed, expected_version=1)
    assert (updated.version, updated.state.attributes, updated.state.active) == (2, {"title": "CEO"}, False)
    assert updated.created == entry.created and updated.vendor_id == "v-1"
    assert await orca.by_user_name(ALICE.user_name) is None  # the old index value is gone
    assert await orca.by_external_id("User", "Ext-1") == []
    with pytest.raises(StaleVersion) as caught:
        await orca.update("User", entry.id, ALICE, expected_version=1)
    assert (caught.value.expected, caught.value.current) == (1, 2)
    with pytest.raises(NotFound):
        await orca.update("User", uuid.uuid4(), ALICE, expected_version=1)
    assert (await orca.get("User", entry.id)).version == 2


async def test_delete_removes_the_row_itself(directory):
    orca = directory.resources("acme", "orca")
    entry = await orca.insert("User", ALICE, vendor_id="v-1", origin=Origin.GATEWAY)
    with pytest.raises(StaleVersion):
        await orca.delete("User", entry.id, expected_version=7)
    await orca.delete("User", entry.id, expected_version=1)
    async with directory.engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(resources))).scalar_one() == 0
    with pytest.raises(NotFound):
        await orca.delete("User", entry.id)
    # The userName is free again.
    await orca.insert("User", ALICE, vendor_id="v-1", origin=Origin.GATEWAY)
