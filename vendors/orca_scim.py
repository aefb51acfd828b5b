"""Orca Security's SCIM surface (`orca-scim`): Enterprise plans, its own SCIM bearer token.

The SCIM token (Settings > SSO > SCIM) is not the REST API token; Orca's guide
lists no GET /Groups/{id} and no PATCH /Groups/{id}, so the gateway reads a
group from the list and applies a group PATCH as read + PUT.
"""

from __future__ import annotations

from vendors.base import Kind, Op
from vendors.facts import ORCA
from vendors.scim_passthrough import ALL_OPS, ScimPassthroughConnector


class OrcaScimConnector(ScimPassthroughConnector):
    vendor = "orca-scim"
    facts = ORCA
    #: The same Orca account as the REST connector's: its "Admin" role (vendor-docs/orca-security.txt).
    privileged_roles = frozenset({"Admin"})
    capabilities = {
        Kind.USER: ALL_OPS,
        Kind.GROUP: frozenset({Op.SEARCH, Op.CREATE, Op.REPLACE, Op.DELETE}),
    }
