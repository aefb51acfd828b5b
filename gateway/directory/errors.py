"""The directory's exceptions. None carries personal data, a key or a database URL.

DirectoryError
├── DirectoryUnavailable    the database is unreachable or failed; nothing was written (SCIM: 503 + Retry-After)
├── SchemaOutOfDate         the schema is not this release's; run `scim-gateway db upgrade`
├── UndecryptableError      a stored value does not decrypt (its key was removed, or the row was altered)
├── NotFound                no such resource in this app (SCIM: 404)
├── Conflict                `attribute` (userName, vendorId or id) is taken in this app (SCIM: 409 uniqueness)
└── ConcurrencyError        another write came first; re-read and retry
    ├── StaleVersion        the row is no longer at the expected version (SCIM: 412, RFC 7644 section 3.14)
    ├── WriteInProgress     another write's intent is pending on the row (SCIM: 409, or 503 + Retry-After)
    └── IntentGone          confirm/abandon of an intent that is no longer the row's pending one
"""

from __future__ import annotations

import asyncio
import re


class DirectoryError(Exception):
    """Base of every directory error."""


class DirectoryUnavailable(DirectoryError):
    """The database could not be reached or failed mid-transaction; the transaction was rolled back."""


class SchemaOutOfDate(DirectoryError):
    """The database schema differs from the one this release expects."""


class UndecryptableError(DirectoryError):
    """A stored value cannot be decrypted with the configured keys."""


class NotFound(DirectoryError):
    """The resource is not in the directory."""


class Conflict(DirectoryError):
    """A unique value is already taken in this app."""

    def __init__(self, attribute: str) -> None:
        super().__init__(f"{attribute} is already taken in this app")
        self.attribute = attribute


class ConcurrencyError(DirectoryError):
    """Another write reached the row first."""


class StaleVersion(ConcurrencyError):
    """The row's version is not the one the write expected."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the resource is at version {current}, not {expected}")
        self.expected = expected
        self.current = current


class WriteInProgress(ConcurrencyError):
    """Another write has recorded its intent on the row and not yet confirmed or abandoned it."""

    def __init__(self) -> None:
        super().__init__("another write to this resource is in progress")


class IntentGone(ConcurrencyError):
    """The intent is no longer pending on the row (confirmed, abandoned or recovered by another process)."""

    def __init__(self) -> None:
        super().__init__("the write intent is no longer pending")


def error_label(exc: BaseException) -> str:
    """A bounded, data-free name for what ended an operation (a metric label): `unavailable`, `stale_version`,
    ... for the tree above, `cancelled` when its caller went away, `unexpected` for anything else."""
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if not isinstance(exc, DirectoryError):
        return "unexpected"
    return _LABELS.get(type(exc)) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


#: Names shorter than their class's.
_LABELS: dict[type[DirectoryError], str] = {DirectoryUnavailable: "unavailable", UndecryptableError: "undecryptable"}
