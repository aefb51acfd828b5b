"""The requests the benchmark sends, shaped as Okta sends them, and the users the static upstream returns.

Request shapes follow Okta's SCIM 2.0 guide (the same ones catalogued in
tests/idp_traffic.py): the userName lookup filter with `%20`-encoded spaces,
the create body with `password`, `groups` and `locale`, and the path-less
deactivation PATCH. Each scenario exists for two apps: `invicti` (a SCIM
pass-through) and `orca` (Orca REST: translated, and every write is read
back). A path holding `{unique}` gets a fresh value per request from the load
generator: deactivating an Orca user that is already inactive would skip the
write, so every Orca PATCH targets a user the upstream has never seen (it
makes each one up, active, on first read).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import orjson

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
USER_ID = "2819c223-7f76-453a-919d-413861904646"
USER_NAME = "bjensen@example.com"

#: What the upstream answers for a user (meta.location points at the vendor: proxies must rewrite it).
USER = {
    "schemas": [USER_SCHEMA],
    "id": USER_ID,
    "externalId": "00ujl29u0le5T6Aj10h7",
    "userName": USER_NAME,
    "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
    "displayName": "Babs Jensen",
    "emails": [{"value": USER_NAME, "type": "work", "primary": True}],
    "locale": "en-US",
    "active": True,
    "meta": {
        "resourceType": "User",
        "created": "2024-01-23T04:56:22Z",
        "lastModified": "2024-05-13T04:42:34Z",
        "location": f"https://vendor.invalid/api/scim/v2/Users/{USER_ID}",
        "version": 'W/"3694e05e9dff591"',
    },
}

_OKTA_HEADERS = {"User-Agent": "Okta SCIM Client 1.0.0", "Accept": "application/scim+json"}
_OKTA_BODY_HEADERS = {**_OKTA_HEADERS, "Content-Type": "application/scim+json; charset=utf-8"}


@dataclass(frozen=True)
class Scenario:
    """One request, repeated: `path` is relative to a SCIM root (`.../scim/v2` or the upstream's `/v2`)."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: int = 200
    #: The gateway app (and baseline route) this request goes to.
    app: str = "invicti"


SCENARIOS: dict[str, Scenario] = {
    "get": Scenario("get", "GET", f"/Users/{USER_ID}", headers=_OKTA_HEADERS),
    "list": Scenario(
        "list",
        "GET",
        "/Users?filter=userName%20eq%20%22bjensen%40example.com%22&startIndex=1&count=100",
        headers=_OKTA_HEADERS,
    ),
    "create": Scenario(
        "create",
        "POST",
        "/Users",
        body=orjson.dumps(
            {
                "schemas": [USER_SCHEMA],
                "userName": USER_NAME,
                "name": {"givenName": "Barbara", "familyName": "Jensen"},
                "emails": [{"primary": True, "value": USER_NAME, "type": "work"}],
                "displayName": "Babs Jensen",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "groups": [],
                "password": "1mz050nq",
                "active": True,
            }
        ),
        headers=_OKTA_BODY_HEADERS,
        expect=201,
    ),
    "patch": Scenario(
        "patch",
        "PATCH",
        f"/Users/{USER_ID}",
        body=orjson.dumps({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "value": {"active": False}}]}),
        headers=_OKTA_BODY_HEADERS,
    ),
}


#: Orca REST: the user the GET reads, and the users of the one list page (the bench user first).
ORCA_USER_ID = "usr_bench0000"
ORCA_USER = {"id": ORCA_USER_ID, "email": USER_NAME, "name": "Babs Jensen", "role": "Viewer", "status": "active"}
ORCA_PAGE = [ORCA_USER] + [
    {
        "id": f"usr_bench{n:04d}",
        "email": f"user{n:04d}@example.com",
        "name": f"User {n}",
        "role": "Viewer",
        "status": "active",
    }
    for n in range(1, 20)
]
UNIQUE = "{unique}"

ORCA_SCENARIOS: dict[str, Scenario] = {
    "get": replace(SCENARIOS["get"], path=f"/Users/{ORCA_USER_ID}", app="orca"),
    "list": replace(SCENARIOS["list"], app="orca"),
    "create": replace(SCENARIOS["create"], app="orca"),
    "patch": replace(SCENARIOS["patch"], path=f"/Users/usr_p{UNIQUE}", app="orca"),
}
#: Scenarios per app: invicti is the SCIM pass-through, orca the translated Orca REST connector.
APPS: dict[str, dict[str, Scenario]] = {"invicti": SCENARIOS, "orca": ORCA_SCENARIOS}


def select(names: list[str], apps: list[str] | None = None) -> list[Scenario]:
    """The named scenarios for each app, app by app; raises ValueError naming an unknown one."""
    unknown = [name for name in names if name not in SCENARIOS] + [app for app in apps or [] if app not in APPS]
    if unknown:
        raise ValueError(
            f"unknown scenario(s) or app(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)} "
            f"and apps {', '.join(APPS)}"
        )
    return [APPS[app][name] for app in apps or ["invicti"] for name in names]
