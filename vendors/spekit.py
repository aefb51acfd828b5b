"""Spekit (`spekit`): SCIM only, at a per-tenant URL shown once in the Spekit admin UI.

Spekit does not paginate (its guide: "Pagination method: none"), so the
connector slices the full list to honour the caller's startIndex/count.
"""

from __future__ import annotations

from pydantic import field_validator

from vendors.facts import SPEKIT
from vendors.scim_passthrough import ScimPassthroughConnector, ScimSettings


class SpekitSettings(ScimSettings):
    @field_validator("base_url")
    @classmethod
    def _required(cls, value: str | None) -> str | None:
        if not value:
            raise ValueError("Spekit's SCIM URL is per tenant: copy it from the Spekit admin UI")
        return value


class SpekitConnector(ScimPassthroughConnector):
    vendor = "spekit"
    facts = SPEKIT
    Settings = SpekitSettings
    paginates = False
