"""Write intents: record -> (vendor) -> confirm or abandon, and the listing crash recovery starts from."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from gateway.directory.errors import Conflict, IntentGone, NotFound, StaleVersion, WriteInProgress
from gateway.directory.records import Intent, IntentOp, Origin, State
from gateway.directory.store import open_directory
from tests.directory.conftest import directory_config

ALICE = State("alice", "ext-a", {"title": "Boss"})


async def test_a_create_intent_reserves_the_user_name_until_confirmed(directory):
    orca = directory.resources("acme", "orca")
    pending = await orca.record_intent("User", IntentOp.CREATE, ALICE)
    assert (pending.version, pending.visible, pending.vendor_id, pending.origin) == (0, False, None, Origin.GATEWAY)
    assert pending.pending.op is IntentOp.CREATE and pending.pending.desired == ALICE
    assert (await orca.by_user_name("ALICE")).pending == pending.pending
    with pytest.raises(Conflict):
        await orca.record_intent("User", IntentOp.CREATE, State("Alice"))
    confirmed = await orca.confirm("User", pending.id, pending.pending, vendor_id="v-1")
    assert (confirmed.version, confirmed.visible, confirmed.vendor_id, confirmed.pending) == (1, True, "v-1", None)
    assert confirmed.state == ALICE
    with pytest.raises(IntentGone):  # confirming twice
        await orca.confirm("User", pending.id, pending.pending, vendor_id="v-1")


async def test_abandoning_a_create_removes_its_row(directory):
    orca = directory.resources("acme", "orca")
    pending = await orca.record_intent("User", IntentOp.CREATE, ALICE)
    await orca.abandon("User", pending.id, pending.pending)
    assert await orca.get("User", pending.id) is None
    assert await orca.by_user_name("alice") is None


async def test_an_update_intent_keeps_the_current_state_and_blocks_other_writes(directory):
    orca = directory.resources("acme", "orca")
    entry = await orca.insert("User", ALICE, vendor_id="v-1", origin=Origin.VENDOR)
    changed = State("alice", "ext-a", {"title": "CEO"})
    with pytest.raises(StaleVersion):
        await orca.record_intent("User", IntentOp.UPDATE, changed, id=entry.id, expected_version=5)
    pending = await orca.record_intent("User", IntentOp.UPDATE, changed, id=entry.id, expected_version=1)
    assert pending.version == 1 and pending.state == ALICE and pending.pending.desired == changed
    with pytest.raises(WriteInProgress):
        await orca.record_intent("User", IntentOp.UPDATE, ALICE, id=entry.id, expected_version=1)
    with pytest.raises(WriteInProgress):
        await orca.update("User", entry.id, ALICE, expected_version=1)
    with pytest.raises(WriteInProgress):
        await orca.delete("User", entry.id)
    stranger = Intent(uuid.uuid4(), IntentOp.UPDATE, ALICE, pending.pending.recorded)
    with pytest.raises(IntentGone):
        await orca.confirm("User", entry.id, stranger)
    # The vendor normalised something: confirm with the state it actually has.
    applied = State("alice", "ext-a", {"title": "CEO"}, active=False)
    confirmed = await orca.confirm("User", entry.id, pending.pending, state=applied)
    assert (confirmed.version, confirmed.state, confirmed.pending) == (2, applied, None)


async def test_abandoning_an_update_keeps_the_version(directory):
    orca = directory.resources("acme", "orca")
    entry = await orca.insert("User", ALICE, vendor_id="v-1", origin=Origin.VENDOR)
    pending = await orca.record_intent("User", IntentOp.UPDATE, State("x"), id=entry.id, expected_version=1)
    await orca.abandon("User", entry.id, pending.pending)
    after = await orca.get("User", entry.id)
    assert (after.version, after.state, after.pending) == (1, ALICE, None)
    with pytest.raises(IntentGone):
        await orca.abandon("User", entry.id, pending.pending)


async def test_confirming_a_delete_intent_deletes_the_row(directory):
    orca = directory.resources("acme", "orca")
    entry = await orca.insert("User", ALICE, vendor_id="v-1", origin=Origin.VENDOR)
    pending = await orca.record_intent("User", IntentOp.DELETE, ALICE, id=entry.id, expected_version=1)
    assert await orca.confirm("User", entry.id, pending.pending) is None
    assert await orca.get("User", entry.id) is None
    with pytest.raises(NotFound):
        await orca.record_intent("User", IntentOp.DELETE, ALICE, id=entry.id, expected_version=1)


async def test_pending_intents_lists_this_apps_old_intents_oldest_first(directory, clock):
    orca, other = directory.resources("acme", "orca"), directory.resources("acme", "delinea")
    first = await orca.record_intent("User", IntentOp.CREATE, State("first"))
    clock.advance(60)
    entry = await orca.insert("User", State("second"), vendor_id="v-2", origin=Origin.VENDOR)
    second = await orca.record_intent("User", IntentOp.UPDATE, State("2nd"), id=entry.id, expected_version=1)
    await other.record_intent("User", IntentOp.CREATE, State("elsewhere"))
    clock.advance(30)
    await orca.record_intent("User", IntentOp.CREATE, State("recent"))
    listed = await orca.pending_intents(older_than=timedelta(seconds=20))
    assert [(e.id, e.pending) for e in listed] == [(first.id, first.pending), (second.id, second.pending)]
    assert listed[1].pending.desired == State("2nd") and listed[1].state == State("second")
    assert [e.id for e in await orca.pending_intents(older_than=timedelta(seconds=60))] == [first.id]
    await orca.confirm("User", first.id, first.pending, vendor_id="v-1")
    assert [e.id for e in await orca.pending_intents(older_than=timedelta(seconds=20))] == [second.id]


async def test_an_intent_outlives_its_process_and_recovery_can_resolve_it(directory, database_url, keys, clock):
    # The writing process dies between record_intent and confirm: only the database carries the intent on.
    entry = await directory.resources("acme", "orca").insert("User", ALICE, vendor_id="v-1", origin=Origin.VENDOR)
    desired = State("alice", "ext-a", {"title": "CTO"})
    await directory.resources("acme", "orca").record_intent(
        "User", IntentOp.UPDATE, desired, id=entry.id, expected_version=1
    )
    created = await directory.resources("acme", "orca").record_intent("User", IntentOp.CREATE, State("bob"))
    await directory.close()
    clock.advance(120)
    recovering = await open_directory(directory_config(database_url, [keys["new"], keys["old"]], keys["index"]), clock)
    try:
        orca = recovering.resources("acme", "orca")
        found = {e.id: e for e in await orca.pending_intents(older_than=timedelta(seconds=60))}
        assert set(found) == {entry.id, created.id} and found[entry.id].pending.desired == desired
        # Recovery read the vendor: the update was applied, the create never happened.
        confirmed = await orca.confirm("User", entry.id, found[entry.id].pending)
        await orca.abandon("User", created.id, found[created.id].pending)
        assert (confirmed.version, confirmed.state) == (2, desired)
        assert await orca.pending_intents(older_than=timedelta(0)) == []
    finally:
        await recovering.close()
