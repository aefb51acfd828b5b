"""What is held and what is shown: the pure rules of gateway/backed/attributes.py."""

from __future__ import annotations

from gateway.backed.attributes import VendorModel, assemble, kept, leaves, merged, same
from vendors.orca import OrcaConnector
from vendors.profile import AttributeProfile

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ORCA = VendorModel(
    AttributeProfile(
        held=frozenset(
            {"userName", "displayName", "active", "emails.value", "emails.type", "emails.primary", "roles.value"}
        )
    )
)


def test_leaves_split_singular_complex_attributes_and_assemble_back() -> None:
    resource = {
        "id": "u1",
        "userName": "ada",
        "name": {"givenName": "Ada", "middleName": "B"},
        "emails": [{"value": "ada@x"}],
        ENTERPRISE: {"manager": {"value": "m1"}, "employeeNumber": "7"},
        "password": "never kept",
    }
    parts = leaves(resource)
    assert ("", "name", "givenName") in parts and ("", "name", "middleName") in parts
    assert parts[(ENTERPRISE, "manager", "value")] == "m1"
    assert ("", "password", None) not in parts and ("", "id", None) not in parts
    assert assemble(parts) == {k: v for k, v in resource.items() if k not in ("id", "password")}


def test_native_follows_the_profile_down_to_sub_attributes() -> None:
    assert ORCA.native(("", "displayName", None))
    assert ORCA.native(("", "emails", None))  # listed through its sub-attributes
    assert not ORCA.native(("", "name", "givenName"))
    assert not ORCA.native((ENTERPRISE, "employeeNumber", None))
    assert VendorModel(None).native(("", "nickName", None))  # a SCIM vendor stores everything
    assert ORCA.unstored({"userName": "a", "title": "x", "name": {"givenName": "A"}}) == ["name.givenName", "title"]


def test_what_the_vendor_cannot_store_or_did_not_store_as_sent_is_held() -> None:
    desired = {
        "userName": "ada@x",
        "title": "Analyst",
        "emails": [{"value": "ada@x", "type": "work"}, {"value": "ada@home", "type": "home"}],
        "displayName": "Ada",
    }
    stored = {"id": "1", "userName": "ada@x", "emails": [{"value": "ada@x", "type": "work"}], "displayName": "ADA"}
    split = kept(ORCA, desired, stored)
    assert split.held == {"title": "Analyst", "emails": desired["emails"]}  # displayName: same without case
    assert split.written["emails"] == stored["emails"] and split.written["displayName"] == "ADA"
    assert split.refused == ()


def test_access_values_the_vendor_did_not_grant_are_refused_never_held() -> None:
    desired = {"userName": "a", "roles": [{"value": "Admin"}, {"value": "Viewer"}]}
    split = kept(ORCA, desired, {"userName": "a", "roles": [{"value": "Viewer"}]})
    assert split.refused == ("roles",) and "roles" not in split.held
    # Only a detail the vendor drops (Entra's role `type`): held, the values being the vendor's.
    typed = {"userName": "a", "roles": [{"value": "Viewer", "type": "WindowsAzureActiveDirectoryRole"}]}
    split = kept(ORCA, typed, {"userName": "a", "roles": [{"value": "Viewer", "primary": True}]})
    assert split.refused == () and split.held == {"roles": typed["roles"]}


def test_held_copies_of_vendor_attributes_yield_to_a_change_made_at_the_vendor() -> None:
    held = {"emails": [{"value": "ada@x", "type": "work"}, {"value": "ada@home", "type": "home"}], "title": "T"}
    written = {"emails": [{"value": "ada@x", "type": "work"}]}
    unchanged = {"id": "1", "userName": "ada@x", "emails": [{"value": "ada@x", "type": "work"}]}
    assert merged(ORCA, unchanged, held, written)["emails"] == held["emails"]
    console = {"id": "1", "userName": "ada@y", "emails": [{"value": "ada@y", "type": "work"}]}
    shown = merged(ORCA, console, held, written)
    assert shown["emails"] == console["emails"] and shown["title"] == "T"


def test_held_extension_attributes_announce_their_schema() -> None:
    shown = merged(ORCA, {"id": "1", "schemas": ["core"]}, {ENTERPRISE: {"employeeNumber": "7"}}, {})
    assert shown["schemas"] == ["core", ENTERPRISE] and shown[ENTERPRISE] == {"employeeNumber": "7"}


def test_same_reads_unassigned_values_alike_and_strings_without_case() -> None:
    assert same(None, []) and same("", None) and same([], None)
    assert same("Ada@X", "ada@x")
    assert same({"value": "a", "primary": False}, {"value": "A"})
    assert not same([{"value": "a"}, {"value": "b"}], [{"value": "a"}])
    assert same([{"value": "a"}], [{"value": "a", "display": "A"}, {"value": "b"}])  # vendor additions ignored


def test_orca_profile_leaves_names_and_enterprise_attributes_to_the_gateway() -> None:
    model = VendorModel(OrcaConnector.user_profile(_OrcaSettings()))
    assert not model.native(("", "name", "givenName")) and not model.native(("", "nickName", None))
    assert model.native(("", "roles", None)) and model.native(("", "userName", None))


class _OrcaSettings:
    class options:
        roles = ("Viewer", "Admin")
