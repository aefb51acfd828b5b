from gateway.scim.projection import parse_specs, project

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER = {
    "schemas": [CORE, ENTERPRISE],
    "id": "u1",
    "userName": "ada",
    "password": "never-returned",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "emails": [{"value": "ada@acme.example", "type": "work", "primary": True}],
    ENTERPRISE: {"department": "R&D", "costCenter": "42"},
    "meta": {"resourceType": "User"},
}


def test_attributes_keep_only_named_attributes_plus_id_and_schemas():
    result = project(USER, parse_specs(["userName", "name.givenName"], CORE), [])
    assert result == {"schemas": USER["schemas"], "id": "u1", "userName": "ada", "name": {"givenName": "Ada"}}


def test_attribute_names_are_case_insensitive_and_may_use_full_urns():
    specs = parse_specs([f"{CORE}:USERNAME", f"{ENTERPRISE}:department", "emails.value"], CORE)
    result = project(USER, specs, [])
    assert result["userName"] == "ada"
    assert result[ENTERPRISE] == {"department": "R&D"}
    assert result["emails"] == [{"value": "ada@acme.example"}]


def test_excluded_attributes_remove_but_never_id_and_password_is_never_returned():
    result = project(USER, [], parse_specs(["emails", "id", "name.familyName", f"{ENTERPRISE}:costCenter"], CORE))
    assert "emails" not in result and result["id"] == "u1"
    assert result["name"] == {"givenName": "Ada"}
    assert result[ENTERPRISE] == {"department": "R&D"}
    assert "password" not in result
    assert USER["emails"], "the input is not modified"


def test_a_bare_extension_urn_names_the_whole_extension():
    kept = project(USER, parse_specs([ENTERPRISE], CORE, [ENTERPRISE]), [])
    assert kept[ENTERPRISE] == USER[ENTERPRISE] and "userName" not in kept
    dropped = project(USER, [], parse_specs([ENTERPRISE.upper()], CORE, [ENTERPRISE]))
    assert ENTERPRISE not in dropped and dropped["userName"] == "ada"
