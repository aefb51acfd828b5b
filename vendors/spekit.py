"""Spekit (`spekit`): SCIM only, at a per-tenant URL shown once in the Spekit admin UI.

Spekit does not paginate (its guide: "Pagination method: none"), so the
connector slices the full list to honour the caller's startIndex/count.
"""

from __future__ import annotations

from typing import Any

from vendors.facts import SPEKIT
from vendors.scim_passthrough import ScimPassthroughConnector


class SpekitConnector(ScimPassthroughConnector):
    vendor = "spekit"
    facts = SPEKIT
    paginates = False

    @classmethod
    def base_url(cls, settings: Any) -> str:
        if not settings.base_url:
            raise ValueError("Spekit's SCIM URL is per tenant: copy it from the Spekit admin UI")
        return str(settings.base_url)
