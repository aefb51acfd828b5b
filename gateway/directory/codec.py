"""Rows <-> records: sealing personal data on the way in, opening it on the way out.

Every write seals every personal column again with the primary key, so a
row is re-encrypted the first time it is written after a rotation. Each
sealed value is bound to (tenant, app, kind, id, column).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import orjson

from gateway.directory.crypto import BlindIndex, KeyRing
from gateway.directory.records import Entry, Intent, IntentOp, Origin, State

Key = tuple[str, str, str, UUID]  # tenant, app, kind, id


class RowCodec:
    """Seals and opens the personal columns of `schema.resources` rows."""

    def __init__(self, keys: KeyRing, index: BlindIndex) -> None:
        self.keys = keys
        self.index = index

    def __repr__(self) -> str:
        return f"RowCodec({self.keys!r})"

    def user_name_index(self, tenant: str, app: str, kind: str, user_name: str) -> bytes:
        return self.index.user_name((tenant, app, kind), user_name)

    def external_id_index(self, tenant: str, app: str, kind: str, external_id: str) -> bytes:
        return self.index.external_id((tenant, app, kind), external_id)

    def state_columns(self, key: Key, state: State) -> dict[str, Any]:
        """The column values of `state`, sealed with the primary key."""
        tenant, app, kind, _ = key
        user_name, external_id = state.user_name, state.external_id
        return {
            "user_name_index": None if user_name is None else self.user_name_index(tenant, app, kind, user_name),
            "user_name": None if user_name is None else self._seal(key, "user_name", user_name.encode()),
            "external_id_index": (
                None if external_id is None else self.external_id_index(tenant, app, kind, external_id)
            ),
            "external_id": None if external_id is None else self._seal(key, "external_id", external_id.encode()),
            "attributes": self._seal(key, "attributes", orjson.dumps(_values_json(state))),
            "active": state.active,
            "key_id": self.keys.primary_id,
        }

    def intent_columns(self, key: Key, intent: Intent | None) -> dict[str, Any]:
        """The pending_* column values of `intent` (all None to clear it)."""
        if intent is None:
            return {"pending_op": None, "pending_id": None, "pending_state": None, "pending_since": None}
        return {
            "pending_op": intent.op.value,
            "pending_id": intent.id,
            "pending_state": self._seal(key, "pending_state", orjson.dumps(_state_json(intent.desired))),
            "pending_since": intent.recorded,
        }

    def entry(self, row: Mapping[Any, Any]) -> Entry:
        """The record of a full row; raises UndecryptableError."""
        key: Key = (row["tenant"], row["app"], row["kind"], row["id"])
        values = orjson.loads(self._open(key, "attributes", row["attributes"]))
        state = State(
            user_name=self._open_text(key, "user_name", row["user_name"]),
            external_id=self._open_text(key, "external_id", row["external_id"]),
            attributes=values["held"],
            active=bool(row["active"]),
            written=values["written"],
        )
        pending = None
        if row["pending_id"] is not None:
            desired = orjson.loads(self._open(key, "pending_state", row["pending_state"]))
            pending = Intent(row["pending_id"], IntentOp(row["pending_op"]), _state(desired), row["pending_since"])
        return Entry(
            tenant=key[0],
            app=key[1],
            kind=key[2],
            id=key[3],
            vendor_id=row["vendor_id"],
            state=state,
            version=row["version"],
            origin=Origin(row["origin"]),
            created=row["created"],
            updated=row["updated"],
            pending=pending,
        )

    def seal(self, key: Key, column: str, plaintext: bytes) -> bytes:
        """`plaintext` sealed with the primary key, bound to `key` and `column` (for other tables' rows)."""
        return self._seal(key, column, plaintext)

    def open(self, key: Key, column: str, token: bytes) -> bytes:
        """The plaintext of a `seal`ed value; raises UndecryptableError."""
        return self._open(key, column, token)

    def _seal(self, key: Key, column: str, plaintext: bytes) -> bytes:
        return self.keys.encrypt(plaintext, _context(key, column))

    def _open(self, key: Key, column: str, token: bytes) -> bytes:
        return self.keys.decrypt(bytes(token), _context(key, column))

    def _open_text(self, key: Key, column: str, token: bytes | None) -> str | None:
        return None if token is None else self._open(key, column, token).decode()


def _context(key: Key, column: str) -> bytes:
    tenant, app, kind, identifier = key
    return f"{tenant}\0{app}\0{kind}\0{identifier}\0{column}".encode()


def _values_json(state: State) -> dict[str, Any]:
    """The `attributes` column's plaintext: the held attributes and the vendor's as last written."""
    return {"held": dict(state.attributes), "written": dict(state.written)}


def _state_json(state: State) -> dict[str, Any]:
    return {
        "userName": state.user_name,
        "externalId": state.external_id,
        "attributes": dict(state.attributes),
        "active": state.active,
        "written": dict(state.written),
    }


def _state(data: dict[str, Any]) -> State:
    return State(data["userName"], data["externalId"], data["attributes"], data["active"], data["written"])
