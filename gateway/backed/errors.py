"""The SCIM errors of directory-backed apps (rendered by gateway/inbound/render.py like every SCIMException).

DirectoryBusy        503 + Retry-After  another write to the same user is under way (or kept winning)
DirectoryDown        503 + Retry-After  the directory's database cannot be reached; nothing was written
refused_unstored     400 invalidValue   `link` mode: the vendor cannot store an attribute, and nothing is held
refused_access       400 invalidValue   the vendor did not grant the access values sent (roles, active)
412 PreconditionFailed (scim2-models)   If-Match names another version (RFC 7644 section 3.14)
"""

from __future__ import annotations

from scim2_models import InvalidValueException, SCIMException


class DirectoryBusy(SCIMException):
    """Another write to this resource holds it; the caller retries after a second."""

    status = 503

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail)
        self.retry_after = 1


class DirectoryDown(SCIMException):
    """The directory's database is unreachable; the write was not started (or was rolled back)."""

    status = 503

    def __init__(self) -> None:
        super().__init__(detail="the gateway's directory is unavailable; nothing was changed, retry later")
        self.retry_after = 5


def refused_unstored(vendor: str, attributes: list[str]) -> InvalidValueException:
    listed = ", ".join(attributes[:10]) + (" ..." if len(attributes) > 10 else "")
    return InvalidValueException(
        detail=f"{vendor} cannot store {listed}, and this app keeps no attributes in the gateway's directory "
        "(directory: link). Map these attributes out in the IdP, or set `directory: full` for this app."
    )


def refused_access(vendor: str, attributes: tuple[str, ...]) -> InvalidValueException:
    return InvalidValueException(
        detail=f"{vendor} did not take the values sent for {', '.join(attributes)}; the account now holds what "
        f"{vendor} stored (read it back). Send values {vendor} supports."
    )
