"""The IdP's roster an access review is checked against: who should have access, and whether active.

Accepted as JSON (a list of userNames, or of {"userName": ..., "active": bool} objects) or as CSV
(one userName per line; or a header row naming a `userName` column, and optionally an `active`
column: true/false, yes/no, 1/0, active/inactive). Bounded: at most MAX_ROSTER_BYTES and
MAX_ROSTER_ENTRIES (413 / 400 beyond), the only thing a review holds in memory besides one page.
Names compare without case (RFC 7643 section 4.1.1: userName is caseExact false).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from scim2_models import InvalidValueException, PayloadTooLargeException
from starlette.requests import Request

MAX_ROSTER_BYTES = 8 * 1024 * 1024
MAX_ROSTER_ENTRIES = 200_000
_TRUE = frozenset({"true", "yes", "1", "active", "y", "t"})
_FALSE = frozenset({"false", "no", "0", "inactive", "n", "f", "disabled", "suspended"})


@dataclass(frozen=True)
class Roster:
    """userName (casefolded) -> whether the IdP has the person active."""

    people: Mapping[str, bool]

    def status(self, *names: str | None) -> bool | None:
        """True/False for the first name the roster holds (active or not), None when it holds none."""
        for name in names:
            if name is not None:
                found = self.people.get(name.casefold())
                if found is not None:
                    return found
        return None


async def read_roster_body(request: Request) -> bytes:
    """The request body, at most MAX_ROSTER_BYTES; raises PayloadTooLargeException (413)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_ROSTER_BYTES:
        raise PayloadTooLargeException(detail=f"the roster is larger than {MAX_ROSTER_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_ROSTER_BYTES:
            raise PayloadTooLargeException(detail=f"the roster is larger than {MAX_ROSTER_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_roster(body: bytes, content_type: str | None) -> Roster:
    """The roster in `body` (JSON when the content type says so or it starts with `[`, else CSV).

    Raises InvalidValueException (400) for an empty, malformed or oversized roster.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    text = body.decode("utf-8-sig", "replace")
    if media.endswith("json") or text.lstrip().startswith("["):
        try:
            entries = _json_entries(orjson.loads(body))
        except orjson.JSONDecodeError as exc:
            raise InvalidValueException(detail=f"the roster is not valid JSON: {exc.msg}") from None
    else:
        entries = _csv_entries(text)
    people: dict[str, bool] = {}
    for name, active in entries:
        if len(people) >= MAX_ROSTER_ENTRIES:
            raise InvalidValueException(detail=f"the roster holds more than {MAX_ROSTER_ENTRIES} people")
        people[name.casefold()] = active
    if not people:
        raise InvalidValueException(detail="the roster names nobody")
    return Roster(people)


def _json_entries(data: Any) -> Iterable[tuple[str, bool]]:
    if not isinstance(data, list):
        raise InvalidValueException(detail="a JSON roster is a list of userNames or of {userName, active} objects")
    for index, item in enumerate(data):
        if isinstance(item, str) and item.strip():
            yield item.strip(), True
        elif isinstance(item, dict) and isinstance(item.get("userName"), str) and item["userName"].strip():
            active = item.get("active", True)
            if not isinstance(active, bool):
                raise InvalidValueException(detail=f"roster entry {index}: active must be true or false")
            yield item["userName"].strip(), active
        else:
            raise InvalidValueException(detail=f"roster entry {index} is neither a userName nor a {{userName, active}}")


def _csv_entries(text: str) -> Iterable[tuple[str, bool]]:
    rows: Iterator[list[str]] = csv.reader(io.StringIO(text))
    first = next(rows, None)
    if first is None:
        return
    header = [cell.strip().casefold() for cell in first]
    if "username" in header:
        name_at, active_at = header.index("username"), header.index("active") if "active" in header else None
    else:
        name_at, active_at = 0, None
        rows = _prepend(first, rows)
    for line, row in enumerate(rows, start=2 if "username" in header else 1):
        if not row or not row[name_at:]:
            continue
        name = row[name_at].strip()
        if not name:
            continue
        yield name, _active(row[active_at] if active_at is not None and active_at < len(row) else "", line)


def _prepend(first: list[str], rows: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rows


def _active(value: str, line: int) -> bool:
    value = value.strip().casefold()
    if not value or value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidValueException(detail=f"roster line {line}: active must be true or false, not {value[:20]!r}")
