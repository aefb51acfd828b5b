"""Group members checked by shape (gateway/scim/members.py) give what the scim2-models Group model gives."""

from __future__ import annotations

from typing import Any

import pytest
from scim2_models import Context, SCIMException

from gateway.scim.models import DEFAULT_SCHEMAS, dump_request, parse_request, validate_resource
from vendors.base import Kind

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
SHAPES: list[Any] = [
    [{"value": "a", "display": "x", "$ref": "https://h/Users/a", "type": "User"}],
    [{"Value": "a", "DISPLAY": "d", "$REF": "r", "Type": "Group"}],
    [{"value": "a"}, {}, {"value": "b", "display": None}],
    [{"value": "a", "Value": "b"}],
    [{"value": ""}],
    [{"display": None}],
    [],
    None,
    [{"value": 5}],
    [{"value": "a", "primary": True}],
    ["a"],
    [None],
    "not a list",
]


@pytest.mark.parametrize("members", SHAPES, ids=[repr(shape)[:40] for shape in SHAPES])
@pytest.mark.parametrize("context", [Context.RESOURCE_CREATION_REQUEST, Context.RESOURCE_REPLACEMENT_REQUEST])
def test_members_checked_by_shape_match_the_model(members: Any, context: Context) -> None:
    body = {"schemas": [GROUP], "displayName": "g", "externalId": "e", "members": members}
    model = DEFAULT_SCHEMAS[Kind.GROUP]
    try:
        expected: Any = dump_request(validate_resource(model, body, context), context)
    except SCIMException as exc:
        expected = (exc.status, exc.scim_type)
    try:
        got: Any = parse_request(model, body, context)
    except SCIMException as exc:
        got = (exc.status, exc.scim_type)
    assert got == expected
