"""Sourced catalogue of the SCIM 2.0 requests Okta and Microsoft Entra ID send (data only, no tests).

Conventions
-----------
Steps (``OKTA_SEQUENCE`` / ``ENTRA_SEQUENCE``) are dicts with:

- ``name``: unique step name.
- ``method``, ``path``: HTTP method and path relative to the SCIM base URL, *with the query string
  encoded the way the IdP puts it on the wire* (Okta: ``%20`` for spaces; Entra: ``+`` for spaces).
- ``headers``: headers the IdP sends besides ``Authorization`` (see ``*_AUTH_HEADER``).
- ``body``: JSON body as Python data, or ``None``.
- ``expect_status``: int or tuple of acceptable ints.
- ``source``: where the request shape comes from; "INFERRED" marks anything not copied verbatim.
- optional ``capture``: ``{placeholder: response_field}``; e.g. ``{"userId": "id"}`` means "take ``id``
  from this step's JSON response and substitute it for ``{userId}`` in later steps".
- optional ``expect_body``: attribute values the response (or the resource, for 204 replies) should
  show, using the key convention below.

Placeholders (see ``PLACEHOLDERS``) appear inside paths and inside JSON string values. A runner must
percent-encode values substituted into a query string (Okta sends ``@`` as ``%40``).

PATCH quirk entries (``ENTRA_PATCH_QUIRKS`` / ``OKTA_PATCH_QUIRKS``) are dicts with ``name``,
``resource`` ("User" or "Group"), ``body`` (a full PatchOp message), optional ``initial`` (state of
the resource before the PATCH, same key convention), ``expect`` (resulting values) and ``source``.
Quirk bodies use literal ids (not placeholders), so a unit test can apply them directly; for Group
entries the group's own id is ``QUIRK_GROUP_ID``.

Key convention for ``initial`` / ``expect`` / ``expect_body``: a dotted path for sub-attributes
(``"name.givenName"``), the full URN prefix for extension attributes
(``"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"``, with ``.value``
appended for the manager id), an RFC 7644 value filter for typed multi-valued attributes
(``'emails[type eq "work"].value'``), ``"members"`` for the exact set of member ids (order does not
matter) and ``None`` for "attribute absent / cleared".
"""

from __future__ import annotations

from typing import Any

# ---------------------------------------------------------------------------------------------
# Sources (full titles and URLs; stored copies were read via the public doc repositories named).
# ---------------------------------------------------------------------------------------------

ENTRA_TUTORIAL = (
    "Microsoft Learn, 'Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID' "
    "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups "
    "(MicrosoftDocs/entra-docs docs/identity/app-provisioning/use-scim-to-provision-users-and-groups.md)"
)
ENTRA_KNOWN_ISSUES = (
    "Microsoft Learn, 'Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra "
    "user provisioning service' (section 'Flags to alter the SCIM behavior', flag aadOptscim062020) "
    "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility "  # noqa: E501
    "(MicrosoftDocs/entra-docs docs/identity/app-provisioning/"
    "application-provisioning-config-problem-scim-compatibility.md)"
)
ENTRA_HOW_PROVISIONING_WORKS = (
    "Microsoft Learn, 'How Application Provisioning works in Microsoft Entra ID' (Incremental cycles; "
    "Deprovisioning) https://learn.microsoft.com/en-us/entra/identity/app-provisioning/how-provisioning-works "
    "(MicrosoftDocs/entra-docs docs/identity/app-provisioning/how-provisioning-works.md)"
)
ENTRA_CONTENT_TYPE_ISSUE = (
    "MicrosoftDocs/azure-docs issue #12728 'Content type header is inaccurate' (actual header is "
    "'Content-Type: application/scim+json; charset=utf-8'); also limosa-io/laravel-scim-server PR #8 "
    "('The content-type header from Azure Active Directory is application/scim+json; charset=utf-8')"
)
ENTRA_QUERY_ENCODING = (
    "AzureAD/SCIMReferenceCode issue #63 (Entra queries 'filter=userName+eq+%22cf4d78e8-cc4f-4d5d-b8b9-"
    "183561c0104a%22' with random GUIDs, incl. on Test Connection)"
)
ENTRA_WORK_ADDRESS = (
    "limosa-io/laravel-scim-server issue #34 'Possible Azure AD SCIM issues when changing an email address?' "
    "(logged Entra PATCH: {'op':'Replace','path':'addresses[type eq \\\"work\\\"].formatted',...}; verbatim "
    "shape); Captain-P-Goldfish/scim-for-keycloak issue #73 (a server reading RFC 7644 3.5.2.3 literally answers "
    "Entra's filtered replace with 400 noTarget and provisioning fails); Captain-P-Goldfish/SCIM-SDK issue #416 "
    "(Entra's validator expects the filtered entry to be created)"
)
ENTRA_MANAGER_CLEARED = (
    "scim-gateway issue 15 item 17 (Entra traffic seen on every SCIM app: the manager cleared with "
    "{'op':'Replace','path':'urn:...:enterprise:2.0:User:manager','value':''}); RFC 7643 section 2.5 (null and "
    "empty are unassigned). The {'value': ''} and null forms are INFERRED variants"
)
OKTA_SCIM20 = (
    "Okta, 'SCIM 2.0 Protocol Reference' / 'Okta and SCIM Version 2.0' "
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20 "
    "(okta/okta-developer-docs packages/@okta/vuepress-site/docs/reference/scim/scim-20/index.md)"
)
OKTA_SCIM11 = (
    "Okta, 'SCIM 1.1 Protocol Reference' (connection test: 'Okta makes two requests ... The query parameters "
    "that Okta sends at this point are always constant') https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-11 "  # noqa: E501
    "(okta/okta-developer-docs packages/@okta/vuepress-site/docs/reference/scim/scim-11/index.md)"
)
OKTA_CAPTURED_HEADERS = (
    "Captured Okta request (Plug.Conn dump of PUT /Users/:id from Okta, req_headers: accept application/scim+json, "
    "accept-charset utf-8, content-type 'application/scim+json; charset=utf-8', user-agent 'Okta SCIM Client 1.0.0', "
    "authorization Bearer) in a public Firezone SCIM prototype README (public code index; repository not resolved)"
)
OKTA_RUNSCOPE = (
    "Okta SCIM 2.0 Spec Test (Runscope) "
    "https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-SPEC-Test.json "
    "and 'Build your SCIM API service' "
    "https://developer.okta.com/docs/guides/scim-provisioning-integration-prepare/main/ "
    "(as embedded/ported in singlestore-labs/scim e2e/okta_spec_test.go)"
)

# ---------------------------------------------------------------------------------------------
# Shared constants
# ---------------------------------------------------------------------------------------------

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# Entra puts this non-standard URI in the schemas of POST /Groups (verbatim in ENTRA_TUTORIAL, Create Group).
ENTRA_ADSCIM_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

# Entra's Test Connection queries a random GUID (verbatim value from ENTRA_QUERY_ENCODING).
ENTRA_RANDOM_GUID = "cf4d78e8-cc4f-4d5d-b8b9-183561c0104a"

# The group id assumed by Group entries in the PATCH quirk lists.
QUIRK_GROUP_ID = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"

PLACEHOLDERS: dict[str, str] = {
    "{userName}": "input: unique userName; the examples also use it as the work email, so make it an email",
    "{externalId}": "input: the IdP's id for the user (Okta user id like 00ujl29u0le5T6Aj10h7; Entra a GUID)",
    "{groupName}": "input: unique group displayName (avoid spaces so it needs no extra encoding)",
    "{userId}": "captured: 'id' of the POST /Users response (step *_create_user, capture {'userId': 'id'})",
    "{groupId}": "captured: 'id' of the POST /Groups response (step *_create_group, capture {'groupId': 'id'})",
    "{managerId}": "captured (Entra only): 'id' of the POST /Users response of entra_create_manager_user",
    "{token}": "input: bearer token the gateway accepts (only used in *_AUTH_HEADER)",
}

# ---------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------

# Okta docs show "Authorization: <Authorization credentials>"; Okta supports Basic, a static header
# token or OAuth bearer. A bearer token is what the captured request (OKTA_CAPTURED_HEADERS) carried.
OKTA_AUTH_HEADER: dict[str, str] = {"Authorization": "Bearer {token}"}
# Entra sends the Secret Token (or an Entra-issued JWT) as a bearer token (ENTRA_TUTORIAL, "Handling
# endpoint authentication" and the request examples with "Authorization: Bearer ...").
ENTRA_AUTH_HEADER: dict[str, str] = {"Authorization": "Bearer {token}"}

# User-Agent: verbatim on every request in OKTA_SCIM20. Accept/Accept-Charset: OKTA_CAPTURED_HEADERS (seen on a
# PUT; assumed for every request - INFERRED for GET/DELETE).
_OKTA_BASE: dict[str, str] = {
    "User-Agent": "Okta SCIM Client 1.0.0",
    "Accept": "application/scim+json",
    "Accept-Charset": "utf-8",
}
OKTA_GET_HEADERS: dict[str, str] = dict(_OKTA_BASE)
OKTA_BODY_HEADERS: dict[str, str] = {**_OKTA_BASE, "Content-Type": "application/scim+json; charset=utf-8"}

ENTRA_GET_HEADERS: dict[str, str] = {}
ENTRA_BODY_HEADERS: dict[str, str] = {"Content-Type": "application/scim+json; charset=utf-8"}


# ---------------------------------------------------------------------------------------------
# Okta
# ---------------------------------------------------------------------------------------------

_OKTA_CREATE_USER_BODY: dict[str, Any] = {
    "schemas": [USER_SCHEMA],
    "userName": "{userName}",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "{userName}", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "{externalId}",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}

OKTA_SEQUENCE: list[dict[str, Any]] = [
    {
        "name": "okta_test_connection_users",
        "method": "GET",
        "path": "/Users?startIndex=1&count=2",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "source": OKTA_SCIM11 + "; the same constant query is listed as Okta's Test Connection in Delinea, "
        "'Okta SCIM Endpoint Reference for the Platform' https://docs.delinea.com/online-help/delinea-platform/"
        "scim/okta-scim-provisioning/okta-scim-endpoint-reference.htm ('count=2 is a constant')",
    },
    {
        "name": "okta_test_connection_groups",
        "method": "GET",
        "path": "/Groups?startIndex=1&count=100",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "source": OKTA_SCIM11 + " (second connection-test request; also the Group import request in OKTA_SCIM20)",
    },
    {
        "name": "okta_lookup_user_not_found",
        "method": "GET",
        "path": "/Users?filter=userName%20eq%20%22{userName}%22&startIndex=1&count=100",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 0},
        "source": OKTA_SCIM20 + " (Determine if the User already exists; Okta also accepts a 404 Error reply)",
    },
    {
        "name": "okta_create_user",
        "method": "POST",
        "path": "/Users",
        "headers": OKTA_BODY_HEADERS,
        "body": _OKTA_CREATE_USER_BODY,
        "expect_status": 201,
        "capture": {"userId": "id"},
        "source": OKTA_SCIM20 + " (Create the User; verbatim body with placeholders. Okta always sends 'password' "
        "even without password sync, plus 'groups': [] and 'locale'. Okta sends no enterprise extension unless the "
        "app's profile maps one)",
    },
    {
        "name": "okta_create_user_duplicate",
        "method": "POST",
        "path": "/Users",
        "headers": OKTA_BODY_HEADERS,
        "body": _OKTA_CREATE_USER_BODY,
        "expect_status": 409,
        "source": OKTA_SCIM20
        + " (409 Conflict with an Error body stops the job); "
        + OKTA_RUNSCOPE
        + " ('Expect failure when recreating user with same values')",
    },
    {
        "name": "okta_lookup_user_found",
        "method": "GET",
        "path": "/Users?filter=userName%20eq%20%22{userName}%22&startIndex=1&count=100",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 1},
        "source": OKTA_SCIM20,
    },
    {
        "name": "okta_get_user",
        "method": "GET",
        "path": "/Users/{userId}",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "source": OKTA_SCIM20 + " (Retrieve the User: Okta GETs the user before every PUT)",
    },
    {
        "name": "okta_get_unknown_user",
        "method": "GET",
        "path": "/Users/010101001010101011001010101011",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 404,
        "source": OKTA_RUNSCOPE + " ('Test invalid User by ID', UserIdThatDoesNotExist=010101001010101011001010101011; "
        "expects 404 with 'detail' and the Error schema)",
    },
    {
        "name": "okta_update_user_put",
        "method": "PUT",
        "path": "/Users/{userId}",
        "headers": OKTA_BODY_HEADERS,
        "body": {
            "schemas": [USER_SCHEMA],
            "id": "{userId}",
            "userName": "{userName}",
            "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
            "emails": [{"primary": True, "value": "{userName}", "type": "work", "display": "{userName}"}],
            "active": True,
            "groups": [],
            "meta": {"resourceType": "User"},
        },
        "expect_status": 200,
        "expect_body": {"name.givenName": "Another", "name.middleName": "Excited", "active": True},
        "source": OKTA_SCIM20 + " (Update the User, PUT; verbatim body with placeholders. Okta echoes what the GET "
        "returned - id, meta, groups, emails[].display - with changed attributes modified; OIN apps and AIW apps both "
        "use PUT for profile updates)",
    },
    {
        "name": "okta_deactivate_user_patch",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": OKTA_BODY_HEADERS,
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
        "expect_status": (200, 204),
        "expect_body": {"active": False},
        "source": OKTA_SCIM20 + " (Update a specific User (PATCH): deactivation, OIN integrations; verbatim. "
        "Path-less replace whose value holds 'active')",
    },
    {
        "name": "okta_reactivate_user_patch",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": OKTA_BODY_HEADERS,
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": True}}]},
        "expect_status": (200, 204),
        "expect_body": {"active": True},
        "source": OKTA_SCIM20 + " ('Activating a user' is sent as PATCH for OIN apps; body INFERRED as the mirror of "
        "the documented deactivation body) - same shape used in singlestore-labs/scim scimtest/e2e/"
        "okta_azure_suite_test.go",
    },
    {
        "name": "okta_lookup_group_not_found",
        "method": "GET",
        "path": "/Groups?filter=displayName%20eq%20%22{groupName}%22&startIndex=1&count=100",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 0},
        "source": OKTA_SCIM20 + " (Retrieve Groups: 'filter=displayName eq \"${groupName}\"' example "
        "/scim/v2/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100). Okta never sends "
        "excludedAttributes",
    },
    {
        "name": "okta_create_group",
        "method": "POST",
        "path": "/Groups",
        "headers": OKTA_BODY_HEADERS,
        "body": {"schemas": [GROUP_SCHEMA], "displayName": "{groupName}", "members": []},
        "expect_status": 201,
        "capture": {"groupId": "id"},
        "source": OKTA_SCIM20 + " (Create Groups via Group Push; verbatim with placeholder)",
    },
    {
        "name": "okta_lookup_group_found",
        "method": "GET",
        "path": "/Groups?filter=displayName%20eq%20%22{groupName}%22&startIndex=1&count=100",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 1},
        "source": OKTA_SCIM20,
    },
    {
        "name": "okta_get_group",
        "method": "GET",
        "path": "/Groups/{groupId}",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "source": OKTA_SCIM20 + " (Retrieve specific Groups)",
    },
    {
        "name": "okta_group_add_member_patch",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": OKTA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": "{userId}", "display": "{userName}"}]}],
        },
        "expect_status": (200, 204),
        "expect_body": {"members": ["{userId}"]},
        "source": OKTA_SCIM20 + " (Update specific Group membership: the 'add' operation of the documented body, "
        "with 'display' = the user's userName; the documented body also carries a 'remove' - see OKTA_PATCH_QUIRKS)",
    },
    {
        "name": "okta_group_rename_patch",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": OKTA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "value": {"id": "{groupId}", "displayName": "{groupName}-renamed"}}],
        },
        "expect_status": (200, 204),
        "expect_body": {"displayName": "{groupName}-renamed", "id": "{groupId}"},
        "source": OKTA_SCIM20 + " (Update a specific Group name: path-less replace that repeats the group's own 'id'; "
        "Okta also sends it with every membership update)",
    },
    {
        "name": "okta_group_remove_member_patch",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": OKTA_BODY_HEADERS,
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": 'members[value eq "{userId}"]'}]},
        "expect_status": (200, 204),
        "expect_body": {"members": []},
        "source": OKTA_SCIM20 + " (Update specific Group membership: the 'remove' operation of the documented body)",
    },
    {
        "name": "okta_group_replace_members_patch",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": OKTA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "replace", "path": "members", "value": [{"value": "{userId}", "display": "{userName}"}]}
            ],
        },
        "expect_status": (200, 204),
        "expect_body": {"members": ["{userId}"]},
        "source": OKTA_SCIM20 + " ('full push of the membership ... using the replace operation'; documented body "
        "has two members, reduced to one here)",
    },
    {
        "name": "okta_group_put_aiw",
        "method": "PUT",
        "path": "/Groups/{groupId}",
        "headers": OKTA_BODY_HEADERS,
        "body": {"schemas": [GROUP_SCHEMA], "displayName": "{groupName}-renamed", "members": []},
        "expect_status": 200,
        "expect_body": {"members": [], "displayName": "{groupName}-renamed"},
        "source": OKTA_SCIM20 + " (AIW custom apps send group name/membership updates as PUT /Groups/{id} without 'id'"
        "; documented body lists one member - removal by omitting the member is INFERRED)",
    },
    {
        "name": "okta_delete_group",
        "method": "DELETE",
        "path": "/Groups/{groupId}",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 204,
        "source": OKTA_SCIM20 + " (Delete a specific Group: only when the admin unlinks a pushed group and picks "
        "'Delete the group in the target app')",
    },
    {
        "name": "okta_get_user_before_aiw_deactivate",
        "method": "GET",
        "path": "/Users/{userId}",
        "headers": OKTA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "source": OKTA_CAPTURED_HEADERS + " ('Deprovision request: Okta performs GET /Users/:id, then PUT /Users/:id "
        "with active: false')",
    },
    {
        "name": "okta_deactivate_user_put_aiw",
        "method": "PUT",
        "path": "/Users/{userId}",
        "headers": OKTA_BODY_HEADERS,
        "body": {
            "schemas": [USER_SCHEMA],
            "id": "{userId}",
            "externalId": "{externalId}",
            "userName": "{userName}",
            "name": {
                "givenName": "Another",
                "middleName": "Excited",
                "familyName": "User",
                "formatted": "Another User",
            },
            "displayName": "Test User",
            "locale": "en-US",
            "emails": [{"primary": True, "type": "work", "value": "{userName}"}],
            "groups": [],
            "active": False,
            "meta": {"resourceType": "User"},
        },
        "expect_status": 200,
        "expect_body": {"active": False},
        "source": OKTA_SCIM20 + " (Delete Users: 'For any custom app integrations created using the AIW, this request "
        "is sent through a PUT'); body shape from " + OKTA_CAPTURED_HEADERS + " (GET response echoed back with "
        "active=false)",
    },
    # Okta never DELETEs users: see OKTA_DELETES_USERS. The user stays, deactivated.
]

# "Okta doesn't perform DELETE operations on User objects in your SCIM application." (OKTA_SCIM20, Delete Users)
OKTA_DELETES_USERS = False

OKTA_PATCH_QUIRKS: list[dict[str, Any]] = [
    {
        "name": "okta_deactivate_pathless_replace",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
        "initial": {"active": True},
        "expect": {"active": False},
        "source": OKTA_SCIM20 + " (verbatim)",
    },
    {
        "name": "okta_reactivate_pathless_replace",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": True}}]},
        "initial": {"active": False},
        "expect": {"active": True},
        "source": OKTA_SCIM20 + " (activation is a PATCH; body INFERRED as mirror of deactivation)",
    },
    {
        "name": "okta_group_rename_repeats_own_id",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "replace", "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2"}}
            ],
        },
        "initial": {"displayName": "Old name", "members": []},
        "expect": {"displayName": "Test SCIMv2", "id": QUIRK_GROUP_ID},
        "source": OKTA_SCIM20 + " (Update a specific Group name; verbatim)",
    },
    {
        "name": "okta_group_membership_remove_filter_and_add_in_one_request",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "remove", "path": 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]'},
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}],
                },
            ],
        },
        "initial": {"members": ["89bb1940-b905-4575-9e7f-6f887cfb368e"]},
        "expect": {"members": ["23a35c27-23d3-4c03-b4c5-6443c09e7173"]},
        "source": OKTA_SCIM20 + " (Update specific Group membership; verbatim)",
    },
    {
        "name": "okta_group_members_full_push_replace",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "replace",
                    "path": "members",
                    "value": [
                        {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"},
                        {"value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "test.user@okta.local"},
                    ],
                }
            ],
        },
        "initial": {"members": ["0d4b0f4c-0000-4000-8000-000000000001"]},
        "expect": {
            "members": ["23a35c27-23d3-4c03-b4c5-6443c09e7173", "89bb1940-b905-4575-9e7f-6f887cfb368e"],
        },
        "source": OKTA_SCIM20 + " (full push with replace; verbatim body - note both members carry the same 'display'"
        "; the initial member id is INFERRED test data)",
    },
    {
        "name": "okta_group_add_members_with_display",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}],
                }
            ],
        },
        "initial": {"members": []},
        "expect": {"members": ["23a35c27-23d3-4c03-b4c5-6443c09e7173"]},
        "source": OKTA_SCIM20 + " (add half of the documented membership body)",
    },
    {
        "name": "okta_group_remove_member_filter_only",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "remove", "path": 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]'}],
        },
        "initial": {"members": ["89bb1940-b905-4575-9e7f-6f887cfb368e", "23a35c27-23d3-4c03-b4c5-6443c09e7173"]},
        "expect": {"members": ["23a35c27-23d3-4c03-b4c5-6443c09e7173"]},
        "source": OKTA_SCIM20 + " (remove half of the documented membership body)",
    },
]

# ---------------------------------------------------------------------------------------------
# Microsoft Entra ID
# ---------------------------------------------------------------------------------------------

_ENTRA_CREATE_USER_BODY: dict[str, Any] = {
    "schemas": [USER_SCHEMA, ENTERPRISE],
    "externalId": "{externalId}",
    "userName": "{userName}",
    "active": True,
    "emails": [{"primary": True, "type": "work", "value": "{userName}"}],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    "roles": [],
    ENTERPRISE: {"employeeNumber": "701984", "department": "Engineering"},
}

ENTRA_SEQUENCE: list[dict[str, Any]] = [
    {
        "name": "entra_test_connection_random_user",
        "method": "GET",
        "path": f"/Users?filter=userName+eq+%22{ENTRA_RANDOM_GUID}%22",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 0},
        "source": ENTRA_TUTORIAL
        + " ('Test Connection queries the SCIM endpoint for a user that doesn't exist, using a "
        "random GUID as the matching property ... expected ... HTTP 200 OK with an empty SCIM ListResponse'); wire "
        "encoding and GUID from " + ENTRA_QUERY_ENCODING,
    },
    {
        "name": "entra_test_connection_random_group",
        "method": "GET",
        "path": f"/Groups?excludedAttributes=members&filter=displayName+eq+%22{ENTRA_RANDOM_GUID}%22",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 0},
        "source": ENTRA_TUTORIAL
        + " ('Microsoft Entra ID makes requests to fetch a random user and group to ensure that "
        "the endpoint and the credentials are valid'); exact group query INFERRED from the documented 'Get Group by "
        "displayName' request",
    },
    {
        "name": "entra_lookup_user_not_found",
        "method": "GET",
        "path": "/Users?filter=userName+eq+%22{userName}%22",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 0},
        "source": ENTRA_TUTORIAL + ' (Get User by query - Zero results: GET /Users?filter=userName eq "non-existent '
        'user"); no startIndex/count are sent. Wire encoding per ' + ENTRA_QUERY_ENCODING,
    },
    {
        "name": "entra_create_user",
        "method": "POST",
        "path": "/Users",
        "headers": ENTRA_BODY_HEADERS,
        "body": _ENTRA_CREATE_USER_BODY,
        "expect_status": 201,
        "capture": {"userId": "id"},
        "source": ENTRA_TUTORIAL
        + " (Create User; verbatim body with placeholders - Entra sends 'meta' and 'roles': [] "
        "in the POST). The enterprise extension object is INFERRED: the documented body declares the enterprise "
        "schema but sends no values; the doc's attribute table maps employeeId/department to "
        "urn:...:enterprise:2.0:User:employeeNumber/department. Content-Type per " + ENTRA_CONTENT_TYPE_ISSUE,
    },
    {
        "name": "entra_create_user_duplicate",
        "method": "POST",
        "path": "/Users",
        "headers": ENTRA_BODY_HEADERS,
        "body": _ENTRA_CREATE_USER_BODY,
        "expect_status": 409,
        "source": "Microsoft Entra SCIM validator 'Create Duplicate User returns 409' as reproduced in "
        "singlestore-labs/scim scimtest/e2e/okta_azure_suite_test.go (source: "
        "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/scim-validator-tutorial)",
    },
    {
        "name": "entra_create_manager_user",
        "method": "POST",
        "path": "/Users",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "externalId": "mgr-{externalId}",
            "userName": "mgr.{userName}",
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": "mgr.{userName}"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Manager Person", "familyName": "Person", "givenName": "Manager"},
            "roles": [],
        },
        "expect_status": 201,
        "capture": {"managerId": "id"},
        "source": ENTRA_TUTORIAL + " (same Create User shape; INFERRED second user so the manager reference below "
        "points at a real id - Entra links managers in a follow-up update, see "
        + ENTRA_HOW_PROVISIONING_WORKS
        + " step 6 'reference attributes')",
    },
    {
        "name": "entra_lookup_user_found",
        "method": "GET",
        "path": "/Users?filter=userName+eq+%22{userName}%22",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 1},
        "source": ENTRA_TUTORIAL + " (Get User by query)",
    },
    {
        "name": "entra_lookup_user_by_work_email",
        "method": "GET",
        "path": "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22{userName}%22",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 1},
        "source": ENTRA_TUTORIAL + ' (\'if user uniqueness is evaluated for both userName and emails[type eq "work"], '
        'a GET to /Users with a filter must allow for ... emails[type eq "work"].value eq "user@contoso.com"\'); '
        "only sent when that attribute is a matching attribute; bracket encoding INFERRED",
    },
    {
        "name": "entra_get_user",
        "method": "GET",
        "path": "/Users/{userId}",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "source": ENTRA_TUTORIAL + " (Get User)",
    },
    {
        "name": "entra_get_unknown_user",
        "method": "GET",
        "path": "/Users/5171a35d82074e068ce2",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 404,
        "source": ENTRA_TUTORIAL + " (Get User - 'User not found. The detail isn't required, only status.')",
    },
    {
        "name": "entra_update_user_legacy_multi_replace",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "displayName", "value": "Pvlo"},
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "TestBcwqnm@test.microsoft.com"},
                {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
                {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
                {"op": "Replace", "path": "externalId", "value": "{externalId}"},
                {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "Eqpj"},
            ],
        },
        "expect_status": (200, 204),
        "expect_body": {
            "displayName": "Pvlo",
            'emails[type eq "work"].value': "TestBcwqnm@test.microsoft.com",
            "name.givenName": "Gtfd",
            "name.familyName": "Pkqf",
            f"{ENTERPRISE}:employeeNumber": "Eqpj",
        },
        "source": ENTRA_KNOWN_ISSUES + " ('Requests to replace multiple attributes', Without feature flag; verbatim "
        "except externalId kept as {externalId} instead of 'Eqpj' so later lookups still match)",
    },
    {
        "name": "entra_update_user_flag_pathless_dotted_keys",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "replace", "path": 'emails[type eq "work"].value', "value": "TestMhvaes@test.microsoft.com"},
                {
                    "op": "replace",
                    "value": {
                        "displayName": "Bjfe",
                        "name.givenName": "Kkom",
                        "name.familyName": "Unua",
                        f"{ENTERPRISE}:employeeNumber": "Aklq",
                    },
                },
            ],
        },
        "expect_status": (200, 204),
        "expect_body": {
            "displayName": "Bjfe",
            'emails[type eq "work"].value': "TestMhvaes@test.microsoft.com",
            "name.givenName": "Kkom",
            "name.familyName": "Unua",
            f"{ENTERPRISE}:employeeNumber": "Aklq",
        },
        "source": ENTRA_KNOWN_ISSUES + " ('Requests to replace multiple attributes', With feature flag; verbatim)",
    },
    {
        "name": "entra_update_user_doc_multivalued",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            ],
        },
        "expect_status": (200, 204),
        "expect_body": {
            'emails[type eq "work"].value': "updatedEmail@microsoft.com",
            "name.familyName": "updatedFamilyName",
        },
        "source": ENTRA_TUTORIAL + " (Update User [Multi-valued properties]; verbatim, doc response is 200 with body)",
    },
    {
        "name": "entra_add_work_email_filtered_path",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Add", "path": 'emails[type eq "work"].value', "value": "entra@example.test"}],
        },
        "expect_status": (200, 204),
        "expect_body": {'emails[type eq "work"].value': "entra@example.test"},
        "source": "Captain-P-Goldfish/SCIM-SDK issue #416 'Azure AD patch add compatibility' (validator sends "
        'add emails[type eq "work"].value and expects the work email to exist afterwards); Microsoft Q&A 708183 '
        "'SCIM PATCH of Complex Multi-Valued Attribute Includes Filter and Sub Attribute in Path' ('op': 'Add'); "
        "RFC 7644 errata 8097; shape as in singlestore-labs/scim scimtest/e2e/azure_suite_test.go",
    },
    {
        "name": "entra_add_single_value_string_legacy",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "nickName", "value": "Babs"}]},
        "expect_status": (200, 204),
        "expect_body": {"nickName": "Babs"},
        "source": ENTRA_KNOWN_ISSUES + " ('Requests made to add a single-value string attribute', Without feature flag;"
        " verbatim)",
    },
    {
        "name": "entra_add_manager_bare_string",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": f"{ENTERPRISE}:manager", "value": "{managerId}"}],
        },
        "expect_status": (200, 204),
        "expect_body": {f"{ENTERPRISE}:manager.value": "{managerId}"},
        "source": "Captain-P-Goldfish/SCIM-SDK issue #686 ('a SCIM request from Microsoft Entra that looks like this', "
        "verbatim shape); Microsoft Q&A 188003 'SCIM user provisioning setup with manager attribute' (Entra sends "
        "manager as a simple value 'user-id' but reads it back as manager.value)",
    },
    {
        "name": "entra_clear_manager_empty_string",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": ""}],
        },
        "expect_status": (200, 204),
        "expect_body": {f"{ENTERPRISE}:manager": None},
        "source": ENTRA_MANAGER_CLEARED,
    },
    {
        "name": "entra_replace_missing_work_address",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": 'addresses[type eq "work"].streetAddress', "value": "1 Main St"},
                {"op": "Replace", "path": 'addresses[type eq "work"].formatted', "value": "18/2111"},
            ],
        },
        "expect_status": (200, 204),
        "expect_body": {
            'addresses[type eq "work"].streetAddress': "1 Main St",
            'addresses[type eq "work"].formatted': "18/2111",
        },
        "source": ENTRA_WORK_ADDRESS + "; the user was created without addresses (entra_create_user)",
    },
    {
        "name": "entra_remove_unmatched_filter",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Remove", "path": 'phoneNumbers[type eq "fax"]'}]},
        "expect_status": (200, 204),
        "expect_body": {'addresses[type eq "work"].streetAddress': "1 Main St"},
        "source": "INFERRED: RFC 7644 section 3.5.2.2 remove with a value filter that matches nothing (a no-op), in "
        "Entra's capitalised-op form (" + ENTRA_KNOWN_ISSUES + ")",
    },
    {
        "name": "entra_deactivate_user_legacy_string_false",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
        "expect_status": (200, 204),
        "expect_body": {"active": False},
        "source": ENTRA_KNOWN_ISSUES + " ('Requests made to disable users', Without feature flag; verbatim). Sent on "
        "unassignment / out-of-scope / disable / soft-delete per " + ENTRA_HOW_PROVISIONING_WORKS,
    },
    {
        "name": "entra_get_user_after_deactivate",
        "method": "GET",
        "path": "/Users/{userId}",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"active": False},
        "source": ENTRA_TUTORIAL + " ('The user object should be returned in a request whether or not the user is "
        "active. The only time the user shouldn't be returned is when it's hard deleted')",
    },
    {
        "name": "entra_reactivate_user_legacy_string_true",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]},
        "expect_status": (200, 204),
        "expect_body": {"active": True},
        "source": 'zitadel commit \'Microsoft Entra invokes the user patch endpoint with "active": "True" / '
        '"active": "False"\' (zitadel/zitadel#8140) and bytebase/bytebase PR #19073 (\'Azure uses active = "True"\''
        "); restore with active=true is required by " + ENTRA_TUTORIAL + "; body INFERRED from the 'False' shape",
    },
    {
        "name": "entra_lookup_group_not_found",
        "method": "GET",
        "path": "/Groups?excludedAttributes=members&filter=displayName+eq+%22{groupName}%22",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 0},
        "source": ENTRA_TUTORIAL + " (Get Group by displayName: GET /Groups?excludedAttributes=members&filter="
        "displayName eq \"displayName\"); '+' encoding INFERRED from " + ENTRA_QUERY_ENCODING,
    },
    {
        "name": "entra_create_group",
        "method": "POST",
        "path": "/Groups",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [GROUP_SCHEMA, ENTRA_ADSCIM_GROUP_SCHEMA],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "{groupName}",
            "meta": {"resourceType": "Group"},
        },
        "expect_status": 201,
        "capture": {"groupId": "id"},
        "source": ENTRA_TUTORIAL + " (Create Group; verbatim - non-standard ADSCIM schema URI, 'meta' in the POST, no "
        "'members': 'Groups are created with an empty members list')",
    },
    {
        "name": "entra_create_group_duplicate",
        "method": "POST",
        "path": "/Groups",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [GROUP_SCHEMA, ENTRA_ADSCIM_GROUP_SCHEMA],
            "externalId": "0b1e5c2a-9d3f-4e8b-a6c7-1f2d3e4a5b6c",
            "displayName": "{groupName}",
            "meta": {"resourceType": "Group"},
        },
        "expect_status": 409,
        "source": "INFERRED: the Create Group body of " + ENTRA_TUTORIAL + " for a displayName that exists (another "
        "externalId); Entra matches groups by displayName (entra_lookup_group_*), so a second group of the name "
        "must be refused (scim-gateway issue 15 item 19)",
    },
    {
        "name": "entra_lookup_group_found",
        "method": "GET",
        "path": "/Groups?excludedAttributes=members&filter=displayName+eq+%22{groupName}%22",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "expect_body": {"totalResults": 1},
        "source": ENTRA_TUTORIAL + " (Get Group by displayName)",
    },
    {
        "name": "entra_get_group_excluding_members",
        "method": "GET",
        "path": "/Groups/{groupId}?excludedAttributes=members",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 200,
        "source": ENTRA_TUTORIAL + " (Get Group: GET /Groups/{id}?excludedAttributes=members)",
    },
    {
        "name": "entra_group_add_member_ref_null",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": "{userId}"}]}],
        },
        "expect_status": (200, 204),
        "expect_body": {"members": ["{userId}"]},
        "source": ENTRA_TUTORIAL + " (Update Group [Add Members]; verbatim - note '$ref': null; doc response 204)",
    },
    {
        "name": "entra_group_remove_member_legacy_value_list",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "{userId}"}]}],
        },
        "expect_status": (200, 204),
        "expect_body": {"members": []},
        "source": ENTRA_KNOWN_ISSUES + " ('Requests made to remove a group member', Without feature flag; verbatim)",
    },
    {
        "name": "entra_group_re_add_member",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": "{userId}"}]}],
        },
        "expect_status": (200, 204),
        "expect_body": {"members": ["{userId}"]},
        "source": ENTRA_TUTORIAL + " (Update Group [Add Members])",
    },
    {
        "name": "entra_group_remove_member_ref_null",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": "{userId}"}]}],
        },
        "expect_status": (200, 204),
        "expect_body": {"members": []},
        "source": ENTRA_TUTORIAL + " (Update Group [Remove Members]; verbatim - value list with '$ref': null)",
    },
    {
        "name": "entra_group_re_add_member_again",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": "{userId}"}]}],
        },
        "expect_status": (200, 204),
        "expect_body": {"members": ["{userId}"]},
        "source": ENTRA_TUTORIAL + " (Update Group [Add Members])",
    },
    {
        "name": "entra_group_remove_member_flag_filter",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": 'members[value eq "{userId}"]'}]},
        "expect_status": (200, 204),
        "expect_body": {"members": []},
        "source": ENTRA_KNOWN_ISSUES + " ('Requests made to remove a group member', With feature flag; verbatim)",
    },
    {
        "name": "entra_group_rename",
        "method": "PATCH",
        "path": "/Groups/{groupId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Replace", "path": "displayName", "value": "{groupName}updatedDisplayName"}],
        },
        "expect_status": (200, 204),
        "expect_body": {"displayName": "{groupName}updatedDisplayName"},
        "source": ENTRA_TUTORIAL + " (Update Group [Non-member attributes]; verbatim shape, doc value is "
        "'<guid>updatedDisplayName'; response 204)",
    },
    {
        "name": "entra_delete_group",
        "method": "DELETE",
        "path": "/Groups/{groupId}",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 204,
        "source": ENTRA_TUTORIAL + " (Delete Group)",
    },
    {
        "name": "entra_deactivate_user_flag_boolean",
        "method": "PATCH",
        "path": "/Users/{userId}",
        "headers": ENTRA_BODY_HEADERS,
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]},
        "expect_status": (200, 204),
        "expect_body": {"active": False},
        "source": ENTRA_KNOWN_ISSUES + " ('Requests made to disable users', With feature flag; verbatim). Soft delete "
        "precedes the hard DELETE: " + ENTRA_HOW_PROVISIONING_WORKS,
    },
    {
        "name": "entra_delete_user_after_soft_delete",
        "method": "DELETE",
        "path": "/Users/{userId}",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 204,
        "source": ENTRA_TUTORIAL + " (Delete User); sent only when the user is hard-deleted in Entra (30 days after "
        "soft delete, or manual permanent delete) and 'Delete' is a target object action: "
        + ENTRA_HOW_PROVISIONING_WORKS,
    },
    {
        "name": "entra_get_user_after_delete",
        "method": "GET",
        "path": "/Users/{userId}",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 404,
        "source": ENTRA_TUTORIAL + " (only a hard-deleted user may be missing; Get User not found -> 404)",
    },
    {
        "name": "entra_delete_manager_user",
        "method": "DELETE",
        "path": "/Users/{managerId}",
        "headers": ENTRA_GET_HEADERS,
        "body": None,
        "expect_status": 204,
        "source": ENTRA_TUTORIAL + " (Delete User; cleanup of the INFERRED manager user)",
    },
]

_MANAGER = f"{ENTERPRISE}:manager"

ENTRA_PATCH_QUIRKS: list[dict[str, Any]] = [
    {
        "name": "entra_disable_legacy_capital_op_string_False",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
        "initial": {"active": True},
        "expect": {"active": False},
        "source": ENTRA_KNOWN_ISSUES + " (disable users, Without feature flag; verbatim)",
    },
    {
        "name": "entra_disable_flag_boolean",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]},
        "initial": {"active": True},
        "expect": {"active": False},
        "source": ENTRA_KNOWN_ISSUES + " (disable users, With feature flag; verbatim)",
    },
    {
        "name": "entra_disable_capital_op_boolean_operations_first",
        "resource": "User",
        "body": {"Operations": [{"op": "Replace", "path": "active", "value": False}], "schemas": [PATCH_OP]},
        "initial": {"active": True},
        "expect": {"active": False},
        "source": ENTRA_TUTORIAL
        + " (Disable User; verbatim - 'Operations' before 'schemas', capital op, real boolean)",
    },
    {
        "name": "entra_disable_lowercase_string_false",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "false"}]},
        "initial": {"active": True},
        "expect": {"active": False},
        "source": "scimmyjs/scimmy issue #86 'Getting 400 Bad Request on unassigning User from Entra ID SCIM app' "
        "(request body logged on unassignment; verbatim)",
    },
    {
        "name": "entra_enable_string_True",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]},
        "initial": {"active": False},
        "expect": {"active": True},
        "source": 'zitadel/zitadel#8140 commit note and bytebase/bytebase PR #19073 (Entra sends "True"/"False"); '
        "body INFERRED from the documented 'False' shape",
    },
    {
        "name": "entra_add_single_value_legacy",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "nickName", "value": "Babs"}]},
        "initial": {"nickName": None},
        "expect": {"nickName": "Babs"},
        "source": ENTRA_KNOWN_ISSUES + " (add a single-value string attribute, Without feature flag; verbatim)",
    },
    {
        "name": "entra_add_single_value_flag",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "nickName", "value": "Babs"}]},
        "initial": {"nickName": None},
        "expect": {"nickName": "Babs"},
        "source": ENTRA_KNOWN_ISSUES + " (add a single-value string attribute, With feature flag; verbatim)",
    },
    {
        "name": "entra_replace_multiple_legacy",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "displayName", "value": "Pvlo"},
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "TestBcwqnm@test.microsoft.com"},
                {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
                {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
                {"op": "Replace", "path": "externalId", "value": "Eqpj"},
                {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "Eqpj"},
            ],
        },
        "initial": {'emails[type eq "work"].value': "old@example.test"},
        "expect": {
            "displayName": "Pvlo",
            'emails[type eq "work"].value': "TestBcwqnm@test.microsoft.com",
            "name.givenName": "Gtfd",
            "name.familyName": "Pkqf",
            "externalId": "Eqpj",
            f"{ENTERPRISE}:employeeNumber": "Eqpj",
        },
        "source": ENTRA_KNOWN_ISSUES + " (replace multiple attributes, Without feature flag; verbatim)",
    },
    {
        "name": "entra_replace_multiple_flag_pathless_dotted_and_urn_keys",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "replace", "path": 'emails[type eq "work"].value', "value": "TestMhvaes@test.microsoft.com"},
                {
                    "op": "replace",
                    "value": {
                        "displayName": "Bjfe",
                        "name.givenName": "Kkom",
                        "name.familyName": "Unua",
                        f"{ENTERPRISE}:employeeNumber": "Aklq",
                    },
                },
            ],
        },
        "initial": {'emails[type eq "work"].value': "old@example.test"},
        "expect": {
            "displayName": "Bjfe",
            'emails[type eq "work"].value': "TestMhvaes@test.microsoft.com",
            "name.givenName": "Kkom",
            "name.familyName": "Unua",
            f"{ENTERPRISE}:employeeNumber": "Aklq",
        },
        "source": ENTRA_KNOWN_ISSUES + " (replace multiple attributes, With feature flag; verbatim). Also reported in "
        "Captain-P-Goldfish/SCIM-SDK issue #267 and pond/scimitar PR #69",
    },
    {
        "name": "entra_validator_pathless_replace_with_username_and_dotted_keys",
        "resource": "User",
        "body": {
            "Operations": [
                {"op": "replace", "path": 'emails[type eq "work"].value', "value": "trystan@bradtkekutch.us"},
                {
                    "op": "replace",
                    "value": {
                        "userName": "lucienne_durgan@wiza.biz",
                        "name.givenName": "Keith",
                        "name.familyName": "Stella",
                    },
                },
            ],
            "schemas": [PATCH_OP],
        },
        "initial": {'emails[type eq "work"].value': "old@example.test"},
        "expect": {
            'emails[type eq "work"].value': "trystan@bradtkekutch.us",
            "userName": "lucienne_durgan@wiza.biz",
            "name.givenName": "Keith",
            "name.familyName": "Stella",
        },
        "source": "pond/scimitar PR #69 (request from Microsoft's SCIM Validator, verbatim; sent with "
        "'Content-Type: application/scim+json; charset=utf-8')",
    },
    {
        "name": "entra_pathless_add_dotted_name_keys",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "add",
                    "value": {"name.givenName": "John", "name.familyName": "Doe", "name.formatted": "John Doe"},
                }
            ],
        },
        "initial": {"name.givenName": None},
        "expect": {"name.givenName": "John", "name.familyName": "Doe", "name.formatted": "John Doe"},
        "source": "thomaspoignant/scim-patch issue #132 'Add operations with no path and object dot notation not "
        "supported' ('Azure AD SCIM sends their add operations for name attributes in the following format'; verbatim "
        "operation, wrapped in a PatchOp)",
    },
    {
        "name": "entra_doc_update_multivalued",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            ],
        },
        "initial": {'emails[type eq "work"].value': "old@example.test"},
        "expect": {
            'emails[type eq "work"].value': "updatedEmail@microsoft.com",
            "name.familyName": "updatedFamilyName",
        },
        "source": ENTRA_TUTORIAL + " (Update User [Multi-valued properties]; verbatim)",
    },
    {
        "name": "entra_doc_update_username",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}
            ],
        },
        "expect": {"userName": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"},
        "source": ENTRA_TUTORIAL + " (Update User [Single-valued properties]; verbatim)",
    },
    {
        "name": "entra_add_work_email_when_none_exists",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "add",
                    "path": 'emails[type eq "work"].value',
                    "value": "godfrey_stiedemann@vonruedenmueller.com",
                }
            ],
        },
        "initial": {"emails": []},
        "expect": {'emails[type eq "work"].value': "godfrey_stiedemann@vonruedenmueller.com"},
        "source": "Captain-P-Goldfish/SCIM-SDK issue #416 (Entra validator op, verbatim; expected to create a work "
        "email element); RFC 7644 errata 8097 ('Microsoft Azure expects to add a new email with value ... and type "
        "\"work\"'); Microsoft Q&A 708183 shows the same with 'op': 'Add'",
    },
    {
        "name": "entra_add_extension_attribute_with_urn_path",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Add", "path": "title", "value": "CTO"},
                {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Development"},
            ],
        },
        "expect": {"title": "CTO", f"{ENTERPRISE}:department": "Development"},
        "source": "thomaspoignant/scim-patch PR #18 'Handle Azure AD schema paths' ('When using provisioning with Azure"
        " AD we get paths which contain version numbers'; verbatim - the '2.0' dot must not split the path)",
    },
    {
        "name": "entra_manager_bare_string_lowercase_add",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": _MANAGER, "value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}],
        },
        "expect": {f"{_MANAGER}.value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"},
        "source": "Captain-P-Goldfish/SCIM-SDK issue #686 ('a SCIM request from Microsoft Entra'; verbatim)",
    },
    {
        "name": "entra_manager_bare_string_capital_add",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Add", "path": _MANAGER, "value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}],
        },
        "expect": {f"{_MANAGER}.value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"},
        "source": "INFERRED: SCIM-SDK issue #686 shape with the capitalised op Entra uses without aadOptscim062020 ("
        + ENTRA_KNOWN_ISSUES
        + "); Microsoft Q&A 188003 confirms the bare 'user-id' string value",
    },
    {
        "name": "entra_manager_doc_relative_path_ref_list",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "Add",
                    "path": "manager",
                    "value": [
                        {
                            "$ref": "http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                            "value": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                        }
                    ],
                }
            ],
        },
        "expect": {f"{_MANAGER}.value": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"},
        "source": ENTRA_TUTORIAL
        + " (Example 5 'Request from Microsoft Entra ID to an SCIM endpoint to update a user'; "
        "verbatim - path 'manager' without the extension URN and a one-element list of {$ref, value})",
    },
    {
        "name": "entra_manager_remove_with_value_filter",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": 'manager[value eq "manager-id"]'}]},
        "initial": {f"{_MANAGER}.value": "manager-id"},
        "expect": {_MANAGER: None},
        "source": "thomaspoignant/scim-patch issue #453 'Some Azure AD remove operations are not supported' "
        "('a SCIM PATCH request that I received from Azure AD'; verbatim operation, wrapped in a PatchOp)",
    },
    {
        "name": "entra_manager_cleared_with_empty_string",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": _MANAGER, "value": ""}]},
        "initial": {f"{_MANAGER}.value": "manager-id"},
        "expect": {_MANAGER: None},
        "source": ENTRA_MANAGER_CLEARED,
    },
    {
        "name": "entra_manager_cleared_with_empty_value",
        "resource": "User",
        "body": {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": _MANAGER, "value": {"value": ""}}]},
        "initial": {f"{_MANAGER}.value": "manager-id"},
        "expect": {_MANAGER: None},
        "source": ENTRA_MANAGER_CLEARED,
    },
    {
        "name": "entra_replace_missing_work_address",
        "resource": "User",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Replace", "path": 'addresses[type eq "work"].formatted', "value": "18/2111"}],
        },
        "expect": {'addresses[type eq "work"].formatted': "18/2111"},
        "source": ENTRA_WORK_ADDRESS,
    },
    {
        "name": "entra_group_add_member_ref_null",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Add", "path": "members", "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}]}
            ],
        },
        "initial": {"members": []},
        "expect": {"members": ["f648f8d5ea4e4cd38e9c"]},
        "source": ENTRA_TUTORIAL + " (Update Group [Add Members]; verbatim)",
    },
    {
        "name": "entra_group_add_two_members_one_op",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "Add",
                    "path": "members",
                    "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}, {"$ref": None, "value": "u1091"}],
                }
            ],
        },
        "initial": {"members": []},
        "expect": {"members": ["f648f8d5ea4e4cd38e9c", "u1091"]},
        "source": "INFERRED: " + ENTRA_TUTORIAL + " gallery checklist ('Support updating multiple group memberships "
        "with a single PATCH') applied to the documented Add Members shape",
    },
    {
        "name": "entra_group_remove_member_legacy_value_list",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "u1091"}]}],
        },
        "initial": {"members": ["u1091", "f648f8d5ea4e4cd38e9c"]},
        "expect": {"members": ["f648f8d5ea4e4cd38e9c"]},
        "source": ENTRA_KNOWN_ISSUES + " (remove a group member, Without feature flag; verbatim). A spec-literal server"
        " would remove ALL members here (MicrosoftDocs/azure-docs issue #30826)",
    },
    {
        "name": "entra_group_remove_member_ref_null",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}]}
            ],
        },
        "initial": {"members": ["u1091", "f648f8d5ea4e4cd38e9c"]},
        "expect": {"members": ["u1091"]},
        "source": ENTRA_TUTORIAL + " (Update Group [Remove Members]; verbatim); seen live in pond/scimitar issue #43",
    },
    {
        "name": "entra_group_remove_two_members_one_op",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "u1091"}, {"value": "2392066"}]}],
        },
        "initial": {"members": ["u1091", "2392066", "f648f8d5ea4e4cd38e9c"]},
        "expect": {"members": ["f648f8d5ea4e4cd38e9c"]},
        "source": "INFERRED from Captain-P-Goldfish/SCIM-SDK wiki 'Support for MS Azure requests' "
        "('If the request from "
        'MS Azure contains multiple values they will be treated as ... members[value eq "1" or value eq "2"]\')',
    },
    {
        "name": "entra_group_remove_member_flag_filter",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "remove", "path": 'members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]'}],
        },
        "initial": {"members": ["7f4bc1a3-285e-48ae-8202-5accb43efb0e", "u1091"]},
        "expect": {"members": ["u1091"]},
        "source": ENTRA_KNOWN_ISSUES + " (remove a group member, With feature flag; verbatim)",
    },
    {
        "name": "entra_group_rename",
        "resource": "Group",
        "body": {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "Replace",
                    "path": "displayName",
                    "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
                }
            ],
        },
        "initial": {"displayName": "displayName"},
        "expect": {"displayName": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"},
        "source": ENTRA_TUTORIAL + " (Update Group [Non-member attributes]; verbatim)",
    },
]

# ---------------------------------------------------------------------------------------------
# Other documented behaviour a gateway must tolerate (not PATCH bodies).
# ---------------------------------------------------------------------------------------------

NOTES: list[dict[str, str]] = [
    {
        "idp": "entra",
        "topic": "Content-Type",
        "detail": "Requests carry 'Content-Type: application/scim+json; charset=utf-8' (docs show "
        "'Content-type: application/scim+json'); the Microsoft validator rejects non-scim+json responses (415).",
        "source": ENTRA_CONTENT_TYPE_ISSUE + "; MicrosoftDocs/azure-docs issue #116775",
    },
    {
        "idp": "okta",
        "topic": "Content-Type / Accept",
        "detail": "SCIM 2.0 requests carry 'Content-Type: application/scim+json; charset=utf-8', 'Accept: "
        "application/scim+json', 'Accept-Charset: utf-8', 'User-Agent: Okta SCIM Client 1.0.0'. GETs have no "
        "Content-Type. Okta's own doc examples show only User-Agent and Authorization.",
        "source": OKTA_CAPTURED_HEADERS + "; " + OKTA_SCIM20,
    },
    {
        "idp": "entra",
        "topic": "query encoding",
        "detail": "Filters are form-encoded: spaces as '+', quotes as %22 (filter=userName+eq+%22...%22). Entra sends "
        "no startIndex/count on lookups; only eq and and are used.",
        "source": ENTRA_QUERY_ENCODING + "; " + ENTRA_TUTORIAL,
    },
    {
        "idp": "okta",
        "topic": "query encoding / paging",
        "detail": "Filters are percent-encoded with %20 and '@' as %40, always with startIndex=1&count=100; imports "
        "page with startIndex+100. itemsPerPage/startIndex/totalResults must be integers, ordering stable.",
        "source": OKTA_SCIM20,
    },
    {
        "idp": "okta",
        "topic": "userName case",
        "detail": "The Runscope suite looks up the random userName in upper case (randomUsernameCaps) and expects 200; "
        "userName matching should be case-insensitive (RFC 7643 caseExact=false).",
        "source": OKTA_RUNSCOPE + " ('Username Case Sensitivity Check')",
    },
    {
        "idp": "okta",
        "topic": "lookup miss",
        "detail": "A userName lookup miss may be answered with an empty ListResponse or a 404 Error; "
        "both are accepted.",
        "source": OKTA_SCIM20,
    },
    {
        "idp": "okta",
        "topic": "create response",
        "detail": "An empty body on POST /Users makes Okta fail with 'Create new user returned empty user'.",
        "source": OKTA_SCIM20,
    },
    {
        "idp": "okta",
        "topic": "suspension",
        "detail": "No request at all is sent when a user is suspended in Okta; deactivation/unassignment sends "
        "active=false (PATCH for OIN apps, PUT for AIW apps); Okta never sends DELETE /Users.",
        "source": OKTA_SCIM20 + " (Delete Users)",
    },
    {
        "idp": "entra",
        "topic": "deprovisioning",
        "detail": "Unassign, scope-out, disable and soft-delete send PATCH active=false; DELETE /Users only after hard "
        "delete (30 days or manual). After unassignment the user is no longer managed, so no DELETE follows.",
        "source": ENTRA_HOW_PROVISIONING_WORKS,
    },
    {
        "idp": "entra",
        "topic": "manager round trip",
        "detail": "Entra writes the manager as a bare id string but reads it back as manager.value; a GET must return "
        "the complex form or Entra re-sends the PATCH / fails to deserialize.",
        "source": "Microsoft Q&A 188003 'SCIM user provisioning setup with manager attribute'; "
        "MicrosoftDocs/azure-docs "
        "issue #11784; Budibase/budibase issue #15369",
    },
    {
        "idp": "entra",
        "topic": "POST extras",
        "detail": "POST bodies carry 'meta': {'resourceType': ...}, 'roles': [] and (groups) the non-standard schema "
        "URI http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group; older tenants send explicit "
        "nulls ('addresses': null, 'phoneNumbers': null, 'title': null). Entra's own reference tests also POST "
        "'active': \"True\" as a string.",
        "source": ENTRA_TUTORIAL + "; AzureAD/SCIMReferenceCode issue #21 ('Unfortunately our service sends it as a "
        "string today')",
    },
    {
        "idp": "entra",
        "topic": "matching attribute",
        "detail": "The matching attribute is configurable: besides userName, Entra may filter on externalId or "
        'emails[type eq "work"].value, and groups on displayName with excludedAttributes=members.',
        "source": ENTRA_TUTORIAL,
    },
    {
        "idp": "entra",
        "topic": "attribute-name case",
        "detail": "Microsoft's reference tests post extension attributes with capitalised names "
        "('Department', 'Manager': {'Value': ...}); attribute names are case-insensitive in SCIM.",
        "source": "AzureAD/SCIMReferenceCode issue #22 and Microsoft.SCIM.PlaywrightTests/json/user_enterprise.json",
    },
    {
        "idp": "entra",
        "topic": "PATCH response",
        "detail": "User PATCH may return 200 with the resource or 204; group PATCH should return 204 and need not list "
        "members. 'Don't require a case-sensitive match on structural elements ... op'.",
        "source": ENTRA_TUTORIAL,
    },
    {
        "idp": "entra",
        "topic": "schema discovery",
        "detail": "GET /Schemas is requested when the provisioning configuration is saved or its edit page opened "
        "(gallery apps).",
        "source": ENTRA_TUTORIAL + " (/Schemas)",
    },
]
