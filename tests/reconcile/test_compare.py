"""gateway/reconcile/compare.py: what counts as drift, orphan and reactivated (pure, no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from gateway.directory.findings import FindingState
from gateway.directory.records import Entry, Origin, State
from gateway.reconcile.compare import drifting, observe

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
WRITTEN = {
    "userName": "Alice@Example.com",
    "displayName": "Alice",
    "emails": [{"value": "alice@example.com", "type": "work", "primary": True}, {"value": "a@home.example"}],
    "name": {"givenName": "Alice", "familyName": "Ärger"},
    ENTERPRISE: {"department": "Security"},
    "active": True,
}


def entry(state: State, origin: Origin = Origin.GATEWAY) -> Entry:
    now = datetime.now(UTC)
    return Entry("acme", "app", "User", uuid.uuid4(), "v-1", state, 1, origin, now, now)


def test_the_vendors_formatting_is_not_drift():
    vendor = {
        "id": "v-1", "meta": {"created": "x"}, "schemas": ["urn:whatever"], "groups": [{"value": "g"}],
        "username": "alice@example.com",  # attribute names and userName are caseless
        "displayName": "Alice",
        "emails": [{"value": "A@HOME.EXAMPLE", "primary": False}, {"value": "Alice@Example.com", "type": "work",
                    "primary": True, "display": "vendor's own"}],  # order, false primary, extra sub-attribute
        "name": {"givenName": "Alice", "familyName": "Ärger", "formatted": "Alice Ärger"},
        ENTERPRISE: {"department": "Security", "costCenter": "vendor's own"},
        "active": True,
        "title": "not written by the gateway",
    }  # fmt: skip
    assert drifting(WRITTEN, vendor) == ()


def test_changed_values_are_drift_named_without_their_values():
    vendor = {
        **WRITTEN,
        "displayName": "alice",  # displayName is compared exactly
        "name": {"givenName": "Alice", "familyName": "Berger"},
        ENTERPRISE: {"department": "Sales"},
        "emails": [{"value": "alice@example.com", "type": "work", "primary": True}],  # one removed
        "active": False,
    }
    assert drifting(WRITTEN, vendor) == ("active", "displayName", "emails", "name", f"{ENTERPRISE}:department")
    vendor_without = {key: value for key, value in WRITTEN.items() if key != "displayName"}
    assert drifting(WRITTEN, vendor_without) == ("displayName",)


def test_orphans_reactivated_and_drift_from_one_account():
    vendor = {"id": "v-1", "userName": "alice@example.com", "active": True, "displayName": "Changed"}
    assert [o.state for o in observe("User", vendor, None)] == [FindingState.ORPHAN]
    found_there = entry(State("alice@example.com"), Origin.VENDOR)
    (orphan,) = observe("User", vendor, found_there)
    assert (orphan.state, orphan.directory_id, orphan.user_name) == (
        FindingState.ORPHAN,
        found_there.id,
        vendor["userName"],
    )
    deactivated = entry(State("alice@example.com", active=False, written={"active": False, "displayName": "Alice"}))
    reactivated, drift = observe("User", vendor, deactivated)
    assert reactivated.state is FindingState.REACTIVATED
    assert drift.state is FindingState.DRIFT and drift.attributes == ("displayName",)  # `active` is the reactivation
    as_written = entry(State("alice@example.com", written={"active": True, "displayName": "Changed"}))
    assert observe("User", vendor, as_written) == []
    assert observe("User", {**vendor, "active": False}, deactivated)[0].attributes == ("displayName",)
