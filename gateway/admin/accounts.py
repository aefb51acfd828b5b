"""One app's User resources as normalised accounts, and finding a person in one app.

An account is what every admin answer shows of a User, whatever the vendor: id, userName, the
primary (else first) email, active, role and group names, and whether one of those is privileged
(the connector's `privileged_roles`). A person is looked up through `app.operations` (native
filtering, or the gateway's own), so every app answers within its own outbound limits; an app
without a user API but with directory state is answered from the directory instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import structlog

from gateway.directory.records import Entry
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import ConnectorError, NotSupported, UpstreamFailure, VendorUnavailable
from gateway.outbound.vendor_text import scrub
from gateway.runtime import AppRuntime
from gateway.scim.query import from_search_body
from vendors.base import Kind, Op, Resource

#: How a person is named: the query parameter of GET people, and the SCIM filter it becomes.
Lookup = Literal["userName", "email", "externalId"]
_FILTERS: dict[str, str] = {
    "userName": "userName eq {value}",
    "email": "emails[value eq {value}]",
    "externalId": "externalId eq {value}",
}
#: Matches a person lookup asks for at most (a userName matches one account; an email may match a few).
MAX_MATCHES = 10
Source = Literal["vendor", "directory"]
log = structlog.get_logger("scim_gateway")


@dataclass(frozen=True)
class Account:
    """One account of one app, normalised; `id` is the vendor's id."""

    id: str
    user_name: str | None
    email: str | None
    active: bool | None
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    privileged: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "userName": self.user_name,
            "email": self.email,
            "active": self.active,
            "roles": list(self.roles),
            "groups": list(self.groups),
            "privileged": self.privileged,
        }


def account_of(app: AppRuntime, resource: Resource) -> Account:
    """The normalised account of a SCIM User as the app returned it."""
    roles = _names(resource.get("roles"), ("value", "display"))
    groups = _names(resource.get("groups"), ("display", "value"))
    active = resource.get("active")
    return Account(
        id=str(resource.get("id", "")),
        user_name=_text(resource.get("userName")),
        email=_email(resource.get("emails")),
        active=active if isinstance(active, bool) else None,
        roles=roles,
        groups=groups,
        privileged=is_privileged(app, (*roles, *groups)),
    )


def account_of_entry(app: AppRuntime, entry: Entry) -> Account:
    """The account as the directory holds it (for apps the vendor cannot be asked about)."""
    attributes = {**entry.state.written, **entry.state.attributes}
    roles = _names(attributes.get("roles"), ("value", "display"))
    groups = _names(attributes.get("groups"), ("display", "value"))
    return Account(
        id=entry.vendor_id or str(entry.id),
        user_name=entry.state.user_name,
        email=_email(attributes.get("emails")),
        active=entry.state.active,
        roles=roles,
        groups=groups,
        privileged=is_privileged(app, (*roles, *groups)),
    )


def is_privileged(app: AppRuntime, names: Iterable[str]) -> bool:
    """Whether any role or group name is one the app's connector declares privileged (without case)."""
    privileged = {name.casefold() for name in type(app.connector).privileged_roles}
    return bool(privileged) and any(name.casefold() in privileged for name in names)


async def find_accounts(app: AppRuntime, budget: CallBudget, by: Lookup, value: str) -> tuple[Source, list[Account]]:
    """The app's accounts matching the person, and where the answer came from.

    Asks the vendor through `app.operations`; an app whose vendor cannot list users but whose
    directory state knows the person is answered from the directory (by userName or externalId).
    Raises NotSupported when the vendor cannot be asked and the directory does not know the person,
    a ConnectorError when the vendor fails.
    """
    operations = app.operations
    if Op.SEARCH not in operations.offered[Kind.USER]:
        entries = await _held(app, by, value)
        if entries:
            return "directory", [account_of_entry(app, entry) for entry in entries]
        operations.require(Kind.USER, Op.SEARCH)  # NotSupported: the directory knowing nobody proves nothing
    text = _FILTERS[by].format(value=orjson.dumps(value).decode())
    query = from_search_body(operations.schemas[Kind.USER], {"filter": text, "count": MAX_MATCHES}, app.max_results)
    page = await operations.search(budget, Kind.USER, query)
    return "vendor", [account_of(app, resource) for resource in page.resources]


async def _held(app: AppRuntime, by: Lookup, value: str) -> list[Entry]:
    """The directory's visible entries for the person (by userName or externalId; email is not indexed)."""
    if app.resources is None or by == "email":
        return []
    if by == "userName":
        entry = await app.resources.by_user_name(value)
        return [entry] if entry is not None and entry.visible else []
    return [entry for entry in await app.resources.by_external_id(Kind.USER.value, value) if entry.visible]


def failure(app: AppRuntime, exc: Exception) -> dict[str, Any]:
    """What an answer says about an app that could not be asked: unsupported, or an error (scrubbed detail).

    `retryable`: the vendor failed or was unavailable, throttled, or the app's circuit or budget held the
    call back.
    """
    if isinstance(exc, NotSupported):
        return {"status": "unsupported", "detail": scrub(exc.detail or "", app.secrets), "retryable": False}
    if isinstance(exc, ConnectorError):
        detail = scrub(exc.detail or "the vendor call failed", app.secrets)
        # 5xx, timeouts, throttling, an open circuit: worth retrying; a refused credential or request is not.
        retryable = isinstance(exc, VendorUnavailable) or type(exc) is UpstreamFailure
        return {"status": "error", "detail": detail, "retryable": retryable}
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status < 500:  # a SCIM error of the gateway's own (an invalid filter value)
        return {"status": "error", "detail": scrub(str(getattr(exc, "detail", "")), app.secrets), "retryable": False}
    log.error("admin_app_failed", tenant=app.tenant, app=app.name, error_type=type(exc).__name__)
    detail = f"internal error ({type(exc).__name__}); see the gateway's logs"
    return {"status": "error", "detail": detail, "retryable": False}


def _names(values: Any, keys: tuple[str, ...]) -> tuple[str, ...]:
    names: list[str] = []
    for item in values if isinstance(values, list) else ():
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = next((item[key] for key in keys if isinstance(item.get(key), str) and item[key]), None)
            if name is not None:
                names.append(name)
    return tuple(names)


def _email(values: Any) -> str | None:
    emails = [item for item in values if isinstance(item, dict)] if isinstance(values, list) else []
    chosen = next((item for item in emails if item.get("primary") is True), emails[0] if emails else None)
    return _text(chosen.get("value")) if chosen is not None else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
