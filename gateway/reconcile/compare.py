"""What one vendor account is, next to the directory's entry for it: pure comparison, no I/O.

- orphan: at the vendor with no directory entry, or an entry the gateway found there (origin vendor)
  rather than provisioned;
- reactivated: the directory has the entry inactive (deactivated through the gateway), the vendor active;
- drift: an attribute the vendor stores differs from `State.written` (what the gateway last wrote).
  Only attributes present in `written` are compared, and within complex values only the
  sub-attributes written; values are compared as SCIM means them (RFC 7643 section 2.4: the
  order of multi-valued attributes carries no meaning; attribute names are case-insensitive,
  section 2.1; userName and email addresses caseless, sections 4.1.1 and 4.1.2), so a vendor's
  formatting is not drift.
Missing entries (in the directory, not at the vendor) are found after the walk (gateway/reconcile/run.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from gateway.directory.findings import FindingState, Observation
from gateway.directory.records import Entry, Origin

#: Never compared: set by the vendor (id, meta), derived (groups), or judged apart (active: reactivated).
_NOT_DRIFT = frozenset({"id", "meta", "schemas", "groups", "externalid"})
_CASELESS = frozenset({"username"})


def observe(kind: str, resource: Mapping[str, Any], entry: Entry | None) -> list[Observation]:
    """The findings about one vendor account (none when it is as the gateway left it)."""
    vendor_id = str(resource["id"])
    user_name = resource.get("userName") if isinstance(resource.get("userName"), str) else None
    if entry is None or entry.origin is Origin.VENDOR:
        return [Observation(kind, vendor_id, FindingState.ORPHAN, entry.id if entry else None, user_name)]
    found: list[Observation] = []
    reactivated = not entry.state.active and resource.get("active", True) is not False
    if reactivated:
        found.append(Observation(kind, vendor_id, FindingState.REACTIVATED, entry.id, user_name))
    names = drifting(entry.state.written, resource, ignore=("active",) if reactivated else ())
    if names:
        found.append(Observation(kind, vendor_id, FindingState.DRIFT, entry.id, user_name, names))
    return found


def drifting(written: Mapping[str, Any], resource: Mapping[str, Any], ignore: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The names of the written attributes the vendor's resource holds differently, sorted.

    A schema extension (a URN key) is compared per sub-attribute and named `urn...:attribute`.
    """
    vendor = {key.lower(): value for key, value in resource.items()}
    skipped = _NOT_DRIFT | {name.lower() for name in ignore}
    names: list[str] = []
    for name, value in written.items():
        key = name.lower()
        if key in skipped:
            continue
        if ":" in name and isinstance(value, Mapping):  # an extension: name each sub-attribute
            theirs = vendor.get(key)
            names += [f"{name}:{sub}" for sub in drifting(value, theirs if isinstance(theirs, Mapping) else {})]
        elif not same(value, vendor.get(key), caseless=key in _CASELESS):
            names.append(name)
    return tuple(sorted(names))


def same(written: Any, vendor: Any, caseless: bool = False) -> bool:
    """Whether the vendor's value is the written one, as SCIM compares them."""
    return bool(_norm(written, caseless) == _norm(_within(written, vendor), caseless))


def _within(written: Any, vendor: Any) -> Any:
    """The vendor's value cut to the sub-attributes the gateway wrote (a vendor may add its own)."""
    if isinstance(written, Mapping) and isinstance(vendor, Mapping):
        lowered = {key.lower(): value for key, value in vendor.items()}
        return {key: _within(value, lowered.get(key.lower())) for key, value in written.items()}
    if isinstance(written, list) and isinstance(vendor, list):  # multi-valued: the sub-attributes written
        names = {key.lower() for item in written if isinstance(item, Mapping) for key in item}
        if names:
            return [
                {key: value for key, value in item.items() if key.lower() in names}
                if isinstance(item, Mapping)
                else item
                for item in vendor
            ]
    return vendor


def _norm(value: Any, caseless: bool = False) -> Any:
    """A canonical form: empty values and `primary: false` dropped, names lower-cased, lists unordered."""
    if isinstance(value, Mapping):
        fields = {}
        for key, item in value.items():
            lowered = key.lower()
            if lowered == "primary" and item is False:
                continue  # RFC 7643 section 2.4: absent primary means not primary
            normal = _norm(item, caseless or (lowered == "value" and _is_email(value)))
            if normal is not None:
                fields[lowered] = normal
        return fields or None
    if isinstance(value, list):
        items = [normal for item in value if (normal := _norm(item, caseless)) is not None]
        return sorted(items, key=lambda item: orjson.dumps(item, option=orjson.OPT_SORT_KEYS)) or None
    if isinstance(value, str):
        return (value.casefold() if caseless else value) or None
    return value


def _is_email(value: Mapping[str, Any]) -> bool:
    text = value.get("value")
    return isinstance(text, str) and "@" in text and " " not in text
