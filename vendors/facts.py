"""What each vendor does, as data, with the guide each fact came from.

The guides live in the developers' shared vendor-docs (dated below). Where a
guide says "not documented", the fact is None and the gateway takes the
careful default (e.g. invent a Retry-After, walk every page).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class VendorFacts:
    vendor: str
    source: str
    regions: Mapping[str, str] = field(default_factory=dict)
    scim_path: str | None = None
    rest_path: str | None = None
    scim_auth: str | None = None
    rest_auth: str | None = None
    paging: str | None = None
    default_page_size: int | None = None
    max_page_size: int | None = None
    documented_rate_limit: str | None = None
    retry_after_on_429: bool | None = None
    notes: tuple[str, ...] = ()


ORCA = VendorFacts(
    vendor="orca",
    source="Orca Security User Management API Guide (Stitchflow, updated 2026-03-17)",
    regions={"us": "https://app.us.orcasecurity.io", "eu": "https://app.eu.orcasecurity.io"},
    scim_path="/scim/v2",
    rest_path="/api",
    scim_auth="Bearer <SCIM token from Settings > SSO > SCIM>",
    rest_auth="Token <API token from Settings > API Tokens>; not Bearer, not the SCIM token",
    paging="offset (REST, undocumented); startIndex/count (SCIM)",
    retry_after_on_429=False,
    notes=(
        "SCIM is Enterprise-only and needs SSO active first.",
        "SCIM Groups: list, create, PUT, delete only; no GET by id and no PATCH.",
        "REST create may only invite; REST and SCIM are eventually consistent: re-read after writes.",
    ),
)

DELINEA = VendorFacts(
    vendor="delinea",
    source="Delinea User Management API Guide (Stitchflow, updated 2026-03-11)",
    scim_path="/scim/v2",
    rest_path="/api/v1",
    scim_auth="static Bearer <SCIM token from Admin > Integrations > SCIM>",
    rest_auth="OAuth2 client credentials at /identity/connect/token; scopes delinea:api:read|write|admin",
    paging="skip/take (REST), startIndex/count (SCIM)",
    default_page_size=25,
    max_page_size=100,
    documented_rate_limit=None,
    retry_after_on_429=False,
    notes=(
        "SCIM PATCH may answer 204 with no body, or 200, depending on platform version.",
        "externalId must be carried on every PATCH/PUT, or Delinea creates a duplicate user.",
        "SCIM Groups: no PUT; membership via PATCH.",
        "https://<tenant>.delinea.app; Secret Server (on-premise) is a different product.",
    ),
)

INVICTI = VendorFacts(
    vendor="invicti",
    source="Invicti Platform API docs, Identity SCIM v2",
    scim_path="/api/scim/v2",
    scim_auth="Invicti Platform API auth (OAuth2 client credentials preferred; bearer accepted)",
    paging="startIndex (1-based) / count",
    notes=(
        'Filter operators are spelled capitalised in Invicti\'s examples: userName Eq "x".',
        "User DELETE is permanent.",
        "Regional hosts are not named in the public guide: configure base_url.",
    ),
)

SPEKIT = VendorFacts(
    vendor="spekit",
    source="Spekit User Management API Guide (Stitchflow, updated 2026-03-16)",
    scim_auth="Bearer <token generated once in the Spekit admin UI>",
    paging="none: list endpoints return everything",
    notes=(
        "No REST API; the SCIM base URL is per tenant and shown only in the admin UI.",
        "Only userName, emails and name are documented attributes.",
    ),
)

DARKTRACE = VendorFacts(
    vendor="darktrace",
    source="Darktrace User Management API Guide (Stitchflow, updated 2026-03-17)",
    rest_auth="HMAC: public token + private token sign each request",
    notes=("No user-management API and no SCIM: users are managed in the Darktrace console.",),
)
