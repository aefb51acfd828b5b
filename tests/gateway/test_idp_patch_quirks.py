"""Every documented Okta and Entra PATCH shape (tests/idp_traffic.py) is accepted and does what the IdP meant."""

from typing import Any

import pytest
from scim2_models import Group, Path

from gateway.scim.models import DEFAULT_SCHEMAS, USER_MODEL
from gateway.scim.patch import normalise_patch
from tests.idp_traffic import ENTRA_PATCH_QUIRKS, OKTA_PATCH_QUIRKS, QUIRK_GROUP_ID
from vendors.base import Kind

QUIRKS = OKTA_PATCH_QUIRKS + ENTRA_PATCH_QUIRKS
USER_ID = "2819c223-7f76-453a-919d-413861904646"


def _initial(kind: Kind, values: dict[str, Any]) -> Any:
    if kind is Kind.GROUP:
        members = [{"value": member} for member in values.get("members", [])]
        return Group(id=QUIRK_GROUP_ID, display_name=values.get("displayName", "group"), members=members or None)
    resource = USER_MODEL(id=USER_ID, user_name="quirk@acme.example")
    # The initial state is written with plain RFC "add" operations, which create filtered entries.
    operations = [{"op": "add", "path": key, "value": value} for key, value in values.items() if value is not None]
    if operations:
        normalise_patch(DEFAULT_SCHEMAS[kind], {"Operations": operations}, USER_ID).apply(resource)
    return resource


def _read(resource: Any, key: str) -> Any:
    if key == "members":
        return sorted(member.value for member in resource.members or [])
    if key == "id":
        return resource.id
    value = Path[type(resource)](key).get(resource)
    # A value-filtered path selects a list of matches; the IdP meant the single entry.
    return value[0] if "[" in key and isinstance(value, list) and len(value) == 1 else value


@pytest.mark.parametrize("quirk", QUIRKS, ids=[quirk["name"] for quirk in QUIRKS])
def test_idp_patch_shape_is_accepted_and_applied(quirk: dict[str, Any]) -> None:
    kind = Kind(quirk["resource"])
    resource = _initial(kind, quirk.get("initial", {}))
    resource_id = QUIRK_GROUP_ID if kind is Kind.GROUP else USER_ID
    normalise_patch(DEFAULT_SCHEMAS[kind], quirk["body"], resource_id).apply(resource)
    for key, expected in quirk["expect"].items():
        got = _read(resource, key)
        if key == "members":
            expected = sorted(expected)
        assert got == expected, f"{quirk['name']}: {key} is {got!r}, expected {expected!r}"
