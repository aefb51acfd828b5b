"""GET /admin/v1/tenants/{tenant}/people?userName=X (or email=, externalId=): a person in every app.

Every app of the tenant is asked at once, each through its own operations (its outbound limits,
retries and breaker) within its own deadline; each answers found / not_found (with where the
answer came from: `vendor` or `directory`), `unsupported` (no user API), or `error` (scrubbed).
No app is ever left out of the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from scim2_models import InvalidValueException
from starlette.responses import Response

from gateway.admin.accounts import Lookup, failure, find_accounts
from gateway.admin.context import AdminCall
from gateway.admin.errors import json_response
from gateway.outbound.budget import CallBudget
from gateway.runtime import AppRuntime, TenantRuntime

LOOKUPS: tuple[Lookup, ...] = ("userName", "email", "externalId")
MAX_VALUE = 256
#: Called with an app's name once it has answered (the CLI's progress).
Progress = Callable[[str], None]
BudgetFor = Callable[[AppRuntime], CallBudget]


async def find_person(
    tenant: TenantRuntime, by: Lookup, value: str, budget_for: BudgetFor, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """One answer per app of `tenant`, in the tenant's app order; never raises for an app's failure."""

    async def ask(app: AppRuntime) -> dict[str, Any]:
        answer: dict[str, Any] = {"app": app.name, "vendor": app.vendor}
        try:
            source, accounts = await find_accounts(app, budget_for(app), by, value)
        except Exception as exc:
            answer |= failure(app, exc)
        else:
            answer |= {"status": "found" if accounts else "not_found", "source": source}
            answer["accounts"] = [account.as_json() for account in accounts]
        if progress is not None:
            progress(app.name)
        return answer

    return list(await asyncio.gather(*(ask(app) for app in tenant.apps.values())))


def person_lookup(params: Any) -> tuple[Lookup, str]:
    """The one lookup given (userName, email or externalId); raises InvalidValueException (400)."""
    given = [(name, params[name]) for name in LOOKUPS if params.get(name)]
    if len(given) != 1:
        raise InvalidValueException(detail="give exactly one of userName, email, externalId")
    by, value = given[0]
    if len(value) > MAX_VALUE:
        raise InvalidValueException(detail=f"{by} is longer than {MAX_VALUE} characters")
    return by, value


async def people_endpoint(admin: AdminCall) -> Response:
    by, value = person_lookup(admin.request.query_params)
    admin.call.user_name = value if by == "userName" else None  # the audit keeps it as its policy says
    answers = await find_person(admin.tenant, by, value, admin.budget)
    return json_response({"tenant": admin.tenant.name, by: value, "apps": answers})
