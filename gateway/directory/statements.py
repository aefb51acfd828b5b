"""The resources table's statements, built once: per call only their parameters change.

Reads select by one indexed value (`tenant`, `app`, `kind`, `value`); writes update one row by its key
(`where_*` parameters) and return it, and their SET columns are the keys of each call's values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Update, bindparam, insert, select, update

from gateway.directory.schema import resources as table

_c = table.c


def _lookup(match: ColumnElement[bool]) -> Select[Any]:
    """A read by one indexed value, built once: per call only its parameters change."""
    scope = (_c.tenant == bindparam("tenant"), _c.app == bindparam("app"), _c.kind == bindparam("kind"))
    return select(table).where(*scope, match)


BY_ID = _lookup(_c.id == bindparam("value"))
BY_VENDOR_ID = _lookup(_c.vendor_id == bindparam("value"))
BY_VENDOR_IDS = _lookup(_c.vendor_id.in_(bindparam("value", expanding=True)))
BY_USER_NAME = _lookup(_c.user_name_index == bindparam("value"))
BY_EXTERNAL_ID = _lookup(_c.external_id_index == bindparam("value"))


def _keyed_update(*condition: ColumnElement[bool]) -> Update:
    """An UPDATE of one row by its key, built once: the SET columns are the keys of each call's values."""
    key = (
        _c.tenant == bindparam("where_tenant"),
        _c.app == bindparam("where_app"),
        _c.kind == bindparam("where_kind"),
        _c.id == bindparam("where_id"),
    )
    return update(table).where(*key, *condition)


_AT_VERSION = (_c.version == bindparam("where_version"), _c.pending_id.is_(None))
_BUMPED = {"version": _c.version + 1}
RECORD_INTENT = _keyed_update(*_AT_VERSION).returning(*table.c)
UPDATE_STATE = _keyed_update(*_AT_VERSION).values(_BUMPED).returning(*table.c)
CONFIRM_INTENT = _keyed_update(_c.pending_id == bindparam("where_pending")).values(_BUMPED).returning(*table.c)
MARK = _keyed_update().values(_BUMPED).returning(*table.c)
INSERT = insert(table).returning(*table.c)
