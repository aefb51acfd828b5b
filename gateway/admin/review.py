"""The access review: every account of every app of a tenant, streamed as CSV or JSON lines.

GET .../access-review?format=csv|jsonl streams it; POST the IdP's roster (gateway/admin/roster.py)
to have it checked too. Apps are walked one after another, page by page through
`app.operations.search` (each page its own budget: the app's outbound limits pace the walk), and
each page is sent before the next is asked for, so memory holds one page whatever the number of
accounts. Columns (COLUMNS): `kind` is `account` for an account, `unsupported` or `error` for the
one row that says an app could not be listed (or stopped part-way): no app is silently missing.

`origin` comes from the app's directory state when it keeps any: `gateway` (provisioned through
the gateway), `vendor` (found at the vendor); empty without directory state. `last_seen` is when
the gateway last wrote or confirmed the account there. Flags (`;`-separated in CSV):

    orphan              the directory does not know the account as provisioned by the gateway
    not_in_roster       active in the app, but the roster names neither its userName nor its email
    inactive_in_roster  active in the app, but inactive in the roster
    privileged          holds a role or group the connector declares privileged
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import orjson
from scim2_models import InvalidValueException
from starlette.responses import Response, StreamingResponse

from gateway.admin.accounts import account_of, failure
from gateway.admin.context import AdminCall
from gateway.admin.people import BudgetFor
from gateway.admin.roster import Roster, parse_roster, read_roster_body
from gateway.directory.records import Entry, Origin
from gateway.outbound.errors import VendorBadResponse
from gateway.outbound.vendor_text import scrub
from gateway.runtime import AppRuntime, TenantRuntime
from gateway.scim.query import ListQuery
from vendors.base import Kind, Op, Resource

COLUMNS = (
    *("app", "vendor", "kind", "id", "userName", "email", "active"),
    *("roles", "groups", "origin", "last_seen", "flags", "detail"),
)
Format = Literal["csv", "jsonl"]
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
PAGE_SIZE = 100
MAX_PAGES = 100_000
Row = dict[str, Any]
#: Called with an app's name and the accounts listed from it so far (the CLI's progress).
RowProgress = Callable[[str, int], None]


async def review_pages(
    tenant: TenantRuntime, roster: Roster | None, budget_for: BudgetFor, progress: RowProgress | None = None
) -> AsyncIterator[list[Row]]:
    """The review's rows, one list per vendor page, app after app; never raises for an app's failure."""
    for app in tenant.apps.values():
        async for rows in _app_pages(app, roster, budget_for, progress):
            yield rows


async def _app_pages(
    app: AppRuntime, roster: Roster | None, budget_for: BudgetFor, progress: RowProgress | None
) -> AsyncIterator[list[Row]]:
    operations = app.operations
    seen = 0
    try:
        operations.require(Kind.USER, Op.SEARCH)
        start, count = 1, min(PAGE_SIZE, app.max_results)
        for _ in range(MAX_PAGES):
            page = await operations.search(budget_for(app), Kind.USER, ListQuery(None, start, count))
            entries = await _entries(app, page.resources)
            yield [_account_row(app, resource, entries, roster) for resource in page.resources]
            seen += len(page.resources)
            if progress is not None:
                progress(app.name, seen)
            if not page.resources or seen >= page.total:
                return
            start += len(page.resources)
        raise VendorBadResponse(f"{app.vendor}: listing users did not end after {MAX_PAGES} pages")
    except Exception as exc:
        answer = failure(app, exc)
        detail = answer["detail"] if not seen else f"listing stopped after {seen} accounts: {answer['detail']}"
        yield [_marker(app, answer["status"], detail)]


async def _entries(app: AppRuntime, resources: list[Resource]) -> dict[str, Entry] | None:
    """The directory's entries for this page's accounts (one query), or None when the app keeps no state."""
    if app.resources is None:
        return None
    return await app.resources.by_vendor_ids(Kind.USER.value, (str(r.get("id")) for r in resources if r.get("id")))


def _account_row(app: AppRuntime, resource: Resource, entries: dict[str, Entry] | None, roster: Roster | None) -> Row:
    account = account_of(app, resource)
    entry = None if entries is None else entries.get(account.id)
    origin = "" if entries is None else (entry.origin.value if entry is not None else Origin.VENDOR.value)
    flags = []
    if origin == Origin.VENDOR.value:
        flags.append("orphan")
    if roster is not None and account.active is not False:
        status = roster.status(account.user_name, account.email)
        if status is None:
            flags.append("not_in_roster")
        elif status is False:
            flags.append("inactive_in_roster")
    if account.privileged:
        flags.append("privileged")
    return {
        "app": app.name,
        "vendor": app.vendor,
        "kind": "account",
        "id": account.id,
        "userName": account.user_name,
        "email": account.email,
        "active": account.active,
        "roles": list(account.roles),
        "groups": list(account.groups),
        "origin": origin,
        "last_seen": entry.updated.isoformat() if entry is not None else None,
        "flags": flags,
        "detail": None,
    }


def _marker(app: AppRuntime, kind: str, detail: str) -> Row:
    row: Row = dict.fromkeys(COLUMNS)
    return row | {"app": app.name, "vendor": app.vendor, "kind": kind, "detail": scrub(detail, app.secrets)}


async def encode(pages: AsyncIterator[list[Row]], fmt: Format) -> AsyncIterator[bytes]:
    """The rows as CSV (with a header line) or JSON lines, one chunk per page."""
    if fmt == "csv":
        yield csv_line(list(COLUMNS))
    async for rows in pages:
        if fmt == "csv":
            yield b"".join(csv_line([_csv_cell(row[column]) for column in COLUMNS]) for row in rows)
        else:
            yield b"".join(orjson.dumps(row) + b"\n" for row in rows)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    # A leading =, +, - or @ would be a formula to a spreadsheet opening the file: quote it out.
    csv.writer(buffer, lineterminator="\r\n").writerow(["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in cells])
    return buffer.getvalue().encode()


def review_format(value: str | None) -> Format:
    """The `format` query parameter (default csv); raises InvalidValueException (400)."""
    if value in (None, "", "csv"):
        return "csv"
    if value in ("jsonl", "ndjson"):
        return "jsonl"
    raise InvalidValueException(detail="format must be csv or jsonl")


def _stream(admin: AdminCall, roster: Roster | None) -> Response:
    fmt = review_format(admin.request.query_params.get("format"))
    body = encode(review_pages(admin.tenant, roster, admin.budget), fmt)
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers={"Cache-Control": "no-store"})


async def review_endpoint(admin: AdminCall) -> Response:
    return _stream(admin, None)


async def review_with_roster_endpoint(admin: AdminCall) -> Response:
    review_format(admin.request.query_params.get("format"))  # a bad format is refused before the body is read
    roster = parse_roster(await read_roster_body(admin.request), admin.request.headers.get("content-type"))
    return _stream(admin, roster)
