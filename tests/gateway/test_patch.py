import pytest
from scim2_models import Context, SCIMException

from gateway.scim.models import DEFAULT_SCHEMAS, POLICY, USER_MODEL, GatewayEnterpriseUser, dump_request, parse_response
from gateway.scim.patch import PATCH_SCHEMA, normalise_patch, patch_op_model
from vendors.base import Kind

USERS = DEFAULT_SCHEMAS[Kind.USER]
GROUPS = DEFAULT_SCHEMAS[Kind.GROUP]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _patch(*operations):
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}


def _applied(*operations):
    user = USER_MODEL(user_name="ada", id="u1", active=True, emails=[{"value": "old@acme.example", "type": "work"}])
    normalise_patch(USERS, _patch(*operations), "u1").apply(user)
    return user


def test_entra_capitalised_op_and_string_boolean_become_rfc_form():
    result = normalise_patch(USERS, _patch({"op": "Replace", "path": "active", "value": "False"}), "u1")
    assert result.operations == [{"op": "replace", "path": "active", "value": False}]


def test_pathless_value_with_dotted_and_urn_keys_is_split_into_path_operations():
    body = _patch(
        {"op": "Replace", "value": {"name.givenName": "Ada", f"{ENTERPRISE}:department": "R&D", "active": "True"}}
    )
    ops = normalise_patch(USERS, body, "u1").operations
    assert {op["path"]: op["value"] for op in ops} == {
        "name.givenName": "Ada",
        f"{ENTERPRISE}:department": "R&D",
        "active": True,
    }
    user = _applied(*body["Operations"])
    assert user.name.given_name == "Ada"
    assert user[GatewayEnterpriseUser].department == "R&D"


def test_manager_as_bare_id_string_becomes_complex_value():
    ops = normalise_patch(
        USERS, _patch({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "boss-id"}), "u1"
    ).operations
    assert ops == [{"op": "add", "path": f"{ENTERPRISE}:manager", "value": {"value": "boss-id"}}]


def test_member_removal_by_value_list_becomes_filtered_paths():
    body = _patch({"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": 'b"c'}]})
    ops = normalise_patch(GROUPS, body, "g1").operations
    assert ops == [
        {"op": "remove", "path": 'members[value eq "a"]'},
        {"op": "remove", "path": 'members[value eq "b\\"c"]'},
    ]


def test_okta_group_replace_repeating_its_own_id_drops_the_id():
    body = _patch({"op": "replace", "value": {"id": "g1", "displayName": "Engineers"}})
    assert normalise_patch(GROUPS, body, "g1").operations == [
        {"op": "replace", "path": "displayName", "value": "Engineers"}
    ]


def test_add_to_filtered_email_creates_the_described_entry():
    user = _applied({"op": "Add", "path": 'emails[type eq "work"].value', "value": "new@acme.example"})
    assert [(e.value, e.type) for e in user.emails] == [("new@acme.example", "work")]


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        (_patch({"op": "replace", "path": "bogus", "value": 1}), "invalidPath"),
        (_patch({"op": "replace", "path": "id", "value": "x"}), "mutability"),
        (_patch({"op": "frobnicate", "path": "active", "value": True}), "invalidValue"),
        ({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}, "invalidSyntax"),
        ([1, 2], "invalidSyntax"),
    ],
)
def test_bad_patches_are_refused_with_the_rfc_scim_type(body, scim_type):
    with pytest.raises(SCIMException) as caught:
        normalise_patch(USERS, body, "u1")
    assert caught.value.status == 400
    assert caught.value.scim_type == scim_type


MEMBER_SEQUENCES = [
    [{"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": 'b"q\\'}]}],
    [{"op": "remove", "path": "members", "value": [{"value": "a"}]}, {"op": "add", "path": "members",
                                                                         "value": [{"value": "a"}]}],
    [{"op": "add", "path": "members", "value": [{"value": "c"}]}, {"op": "remove", "path": 'members[value eq "c"]'},
     {"op": "replace", "path": "displayName", "value": "renamed"}],
    [{"op": "remove", "path": 'members[value eq "nobody"]'}],
    [{"op": "remove", "path": 'members[display eq "A"]'}],
]  # fmt: skip


@pytest.mark.parametrize("operations", MEMBER_SEQUENCES)
def test_member_removals_applied_in_one_pass_match_scim2_models(operations):
    def group():
        members = [{"value": "a", "display": "A"}, {"value": 'b"q\\'}]
        body = {"schemas": [GROUPS.__schema__], "id": "g1", "displayName": "g", "members": members}
        return parse_response(GROUPS, body)

    patch = normalise_patch(GROUPS, _patch(*operations), "g1")
    ours, reference = group(), group()
    patch.apply(ours)
    # The reference: scim2-models applying every operation, removals included, one by one.
    message = {"schemas": [PATCH_SCHEMA], "Operations": patch.operations}
    patch_op_model(GROUPS).model_validate(message, scim_ctx=Context.RESOURCE_PATCH_REQUEST).patch(reference, POLICY)
    context = Context.RESOURCE_REPLACEMENT_REQUEST
    assert dump_request(ours, context) == dump_request(reference, context)
