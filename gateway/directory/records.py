"""What the directory returns and accepts: plain, immutable values (decrypted; never logged whole)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID


class Origin(StrEnum):
    """Where an account came from: created through the gateway, found at the vendor, or adopted: an IdP's
    create met an account made outside it, and the app's `on_existing: link` took it over (audited)."""

    GATEWAY = "gateway"
    VENDOR = "vendor"
    ADOPTED = "adopted"


class IntentOp(StrEnum):
    """The vendor write an intent announces; `desired` is the full state after it (for update: any PUT or PATCH)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class State:
    """The part of a resource the directory keeps: correlation values and the attributes it holds.

    `user_name` is for Users (None for Groups); `attributes` is SCIM JSON the
    vendor cannot store (the caller decides which); `written` is the SCIM JSON
    of the attributes the vendor does store, as the gateway last wrote them
    (what reconciliation compares the vendor with to find drift). Both are kept
    encrypted.
    """

    user_name: str | None = None
    external_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    active: bool = True
    written: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Personal data stays out of reprs (and so out of tracebacks and logs).
        return f"State(<{len(self.attributes)} attributes>, active={self.active})"


@dataclass(frozen=True)
class Intent:
    """A vendor write announced before it is made (write intent -> call the vendor -> confirm or abandon)."""

    id: UUID
    op: IntentOp
    desired: State
    recorded: datetime


@dataclass(frozen=True)
class Entry:
    """One resource of one app as the directory has it.

    `version` increases on every confirmed change (ETag `W/"<version>"`); a
    pending create is at version 0 and is not yet a resource the IdP may see.
    """

    tenant: str
    app: str
    kind: str
    id: UUID
    vendor_id: str | None
    state: State
    version: int
    origin: Origin
    created: datetime
    updated: datetime
    pending: Intent | None = None

    @property
    def etag(self) -> str:
        """The weak entity tag of this version (RFC 7644 section 3.14)."""
        return f'W/"{self.version}"'

    @property
    def visible(self) -> bool:
        """False while the resource's creation is still only an intent."""
        return self.version > 0
