"""Personal data at rest: sealed rows, key rotation, row binding, and keys kept out of reprs and errors."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from gateway.directory.crypto import KeyRing, key_id
from gateway.directory.errors import UndecryptableError
from gateway.directory.keys import decode_key
from gateway.directory.records import IntentOp, Origin, State
from gateway.directory.schema import resources
from gateway.directory.store import open_directory
from tests.directory.conftest import directory_config

SECRET_STATE = State(
    "Zelda.Plaintext@example.com",
    "EXT-PLAINTEXT-42",
    {"name": {"familyName": "Hyrule-Plaintext"}, "employeeNumber": "E-PLAINTEXT-7"},
)
PLAINTEXTS = (
    "Zelda.Plaintext",
    "zelda.plaintext",
    "EXT-PLAINTEXT-42",
    "Hyrule-Plaintext",
    "E-PLAINTEXT-7",
    "familyName",
)


async def _raw_rows(directory) -> list[dict]:
    async with directory.engine.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(select(resources))]


def _bytes_of(row: dict) -> bytes:
    return b"\0".join(value if isinstance(value, bytes) else str(value).encode() for value in row.values())


async def test_rows_hold_no_personal_data_in_clear(directory, keys):
    orca = directory.resources("acme", "orca")
    entry = await orca.insert("User", SECRET_STATE, vendor_id="v-1", origin=Origin.GATEWAY)
    await orca.record_intent("User", IntentOp.UPDATE, SECRET_STATE, id=entry.id, expected_version=1)
    (row,) = await _raw_rows(directory)
    stored = _bytes_of(row)
    for plaintext in PLAINTEXTS:
        assert plaintext.encode() not in stored
        assert plaintext.encode("utf-16-le") not in stored
    assert row["pending_state"] is not None and row["key_id"] == key_id(decode_key(SecretStr(keys["old"])))


async def test_rotation_old_rows_decrypt_and_are_resealed_with_the_new_key_on_write(directory, database_url, keys):
    entry = await directory.resources("acme", "orca").insert("User", SECRET_STATE, vendor_id="v", origin=Origin.VENDOR)
    old_id, new_id = (key_id(decode_key(SecretStr(keys[name]))) for name in ("old", "new"))
    rotated = await open_directory(directory_config(database_url, [keys["new"], keys["old"]], keys["index"]))
    try:
        orca = rotated.resources("acme", "orca")
        read = await orca.get("User", entry.id)
        assert read.state == SECRET_STATE  # sealed by the old key, opened by the ring
        assert await orca.by_user_name("zelda.plaintext@EXAMPLE.com") is not None  # the index key did not change
        (row,) = await _raw_rows(rotated)
        assert row["key_id"] == old_id and KeyRing([SecretStr(keys["old"])]).sealed_by(row["attributes"]) == old_id
        await orca.update("User", entry.id, SECRET_STATE, expected_version=1)
        (row,) = await _raw_rows(rotated)
        ring = KeyRing([SecretStr(keys["new"])])
        assert row["key_id"] == new_id
        assert {ring.sealed_by(row[column]) for column in ("user_name", "external_id", "attributes")} == {new_id}
    finally:
        await rotated.close()
    # The old key can now go: a directory that only has the new key reads the row.
    retired = await open_directory(directory_config(database_url, [keys["new"]], keys["index"]))
    try:
        assert (await retired.resources("acme", "orca").get("User", entry.id)).state == SECRET_STATE
    finally:
        await retired.close()


async def test_a_row_sealed_by_a_removed_key_fails_loudly(directory, database_url, keys):
    entry = await directory.resources("acme", "orca").insert("User", SECRET_STATE, vendor_id="v", origin=Origin.VENDOR)
    without_old = await open_directory(directory_config(database_url, [keys["new"]], keys["index"]))
    try:
        with pytest.raises(UndecryptableError, match="not configured") as caught:
            await without_old.resources("acme", "orca").get("User", entry.id)
        assert keys["old"] not in str(caught.value) and keys["new"] not in str(caught.value)
    finally:
        await without_old.close()


async def test_a_sealed_value_moved_to_another_row_does_not_decrypt(directory):
    orca = directory.resources("acme", "orca")
    alice = await orca.insert("User", State("alice", attributes={"title": "a"}), vendor_id="a", origin=Origin.VENDOR)
    bob = await orca.insert("User", State("bob", attributes={"title": "b"}), vendor_id="b", origin=Origin.VENDOR)
    async with directory.engine.begin() as connection:
        sealed = (await connection.execute(select(resources.c.attributes).where(resources.c.id == alice.id))).scalar()
        await connection.execute(update(resources).where(resources.c.id == bob.id).values(attributes=sealed))
    with pytest.raises(UndecryptableError, match="authenticate"):
        await orca.get("User", bob.id)


async def test_keys_never_appear_in_reprs(directory, database_url, keys):
    config = directory_config(database_url, [keys["old"]], keys["index"])
    shown = " ".join(
        (repr(config), str(config), repr(directory), repr(directory.resources("acme", "orca")), repr(directory._codec))
    )
    for key in keys.values():
        assert key not in shown
    if "@" in database_url:  # the PostgreSQL URL's password
        assert database_url.split(":")[2].split("@")[0] not in shown
    entry = await directory.resources("acme", "orca").insert("User", SECRET_STATE, vendor_id="v", origin=Origin.VENDOR)
    assert "Plaintext" not in repr(entry)
