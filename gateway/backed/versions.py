"""ETag preconditions (RFC 7644 section 3.14, RFC 9110 section 13.1): weak comparison of `W/"n"` versions."""

from __future__ import annotations

from scim2_models import PreconditionFailedException

from gateway.directory.records import Entry


def check_if_match(if_match: str | None, entry: Entry | None) -> None:
    """If-Match: `*` or one of the listed ETags names the entry's version; else PreconditionFailed (412)."""
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags and entry is not None and entry.visible:
        return
    if entry is None or not entry.visible or not weakly_listed(entry.etag, tags):
        raise PreconditionFailedException(detail="the resource's version is not the one given in If-Match")


def none_match(if_none_match: str | None, version: str) -> bool:
    """If-None-Match: `*` or the current version listed (then a GET answers 304)."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or weakly_listed(version, tags)


def weakly_listed(etag: str, tags: list[str]) -> bool:
    """Weak comparison: W/"3" and "3" name the same version (RFC 9110 section 8.8.3.2)."""
    opaque = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == opaque for tag in tags)
