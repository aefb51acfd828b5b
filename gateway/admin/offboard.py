"""POST /admin/v1/tenants/{tenant}/people/offboard: a person's accounts deactivated (or deleted) everywhere.

Body: {"userName": ..., "mode": "deactivate" | "delete", "dry_run": bool, "apps": [optional subset]}.
Every app (or the subset: how failed ones are retried) acts at once, each through its own operations
within its own limits: find the account by userName, then

    deactivate  PATCH active=false (gateway/scim/patch.py) -> deactivated, or already_inactive
    delete      DELETE                                    -> deleted
    dry run     nothing changes                           -> would_deactivate / would_delete / already_inactive
    not there                                             -> not_found
    no user API / cannot patch or delete                  -> unsupported
    the vendor failed                                     -> failed (retryable, scrubbed detail)

Repeating a call is safe: a deactivated account answers already_inactive, a deleted one not_found.
The answer is 200 with one result per app (multi-status in the body); every app actually acted on
also gets an audit record of its own, naming the app and the outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from scim2_models import InvalidValueException
from starlette.responses import Response

from gateway.admin.accounts import failure, find_accounts
from gateway.admin.context import AdminCall
from gateway.admin.errors import json_response
from gateway.admin.people import MAX_VALUE, BudgetFor, Progress
from gateway.inbound.recording import Call
from gateway.observability.audit import AuditLog
from gateway.outbound.errors import UnknownResource
from gateway.runtime import AppRuntime, TenantRuntime
from gateway.scim.http import read_json
from gateway.scim.patch import PATCH_SCHEMA, normalise_patch
from vendors.base import Kind, Op

Mode = Literal["deactivate", "delete"]
MAX_BODY_BYTES = 64 * 1024
_DEACTIVATE = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": False}]}


@dataclass(frozen=True)
class Offboarding:
    """What to do: whose accounts, how, whether for real, and on which apps (None: every app)."""

    user_name: str
    mode: Mode = "deactivate"
    dry_run: bool = False
    apps: tuple[str, ...] | None = None


async def offboard(
    tenant: TenantRuntime,
    request: Offboarding,
    budget_for: BudgetFor,
    progress: Progress | None = None,
    on_result: Callable[[AppRuntime, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Offboard on every chosen app at once; one result per app, never raising for an app's failure.

    Raises InvalidValueException (400) when `request.apps` names an app the tenant does not have.
    `on_result` sees each app's result as it is known (the HTTP handler audits it).
    """
    apps = _chosen(tenant, request.apps)

    async def act(app: AppRuntime) -> dict[str, Any]:
        result: dict[str, Any] = {"app": app.name, "vendor": app.vendor}
        try:
            result |= await _offboard_app(app, request, budget_for)
        except Exception as exc:
            result |= failure(app, exc)
            result["status"] = "unsupported" if result["status"] == "unsupported" else "failed"
        if on_result is not None:
            on_result(app, result)
        if progress is not None:
            progress(app.name)
        return result

    results = list(await asyncio.gather(*(act(app) for app in apps)))
    failed = [result["app"] for result in results if result["status"] == "failed"]
    return {
        "tenant": tenant.name,
        "userName": request.user_name,
        "mode": request.mode,
        "dry_run": request.dry_run,
        "complete": not failed,
        "failed": failed,
        "apps": results,
    }


async def _offboard_app(app: AppRuntime, request: Offboarding, budget_for: BudgetFor) -> dict[str, Any]:
    operations = app.operations
    operations.require(Kind.USER, Op.PATCH if request.mode == "deactivate" else Op.DELETE)  # 501: unsupported
    _, accounts = await find_accounts(app, budget_for(app), "userName", request.user_name)
    if not accounts:
        return {"status": "not_found"}
    if len(accounts) > 1:  # userName is unique per app (RFC 7643 section 4.1.1): never act on a guess
        return {"status": "failed", "retryable": False, "detail": f"{len(accounts)} accounts match this userName"}
    account = accounts[0]
    found = {"id": account.id}
    if request.mode == "deactivate" and account.active is False:
        return {"status": "already_inactive", **found}
    if request.dry_run:
        return {"status": f"would_{request.mode}", **found}
    try:
        if request.mode == "delete":
            await operations.delete(budget_for(app), Kind.USER, account.id)
            return {"status": "deleted", **found}
        patch = normalise_patch(operations.schemas[Kind.USER], _DEACTIVATE, account.id)
        after = await operations.patch(budget_for(app), Kind.USER, account.id, patch)
    except UnknownResource:
        return {"status": "not_found", **found}  # gone between the look-up and the change: nothing to do
    if after.get("active") is True:
        detail = "the vendor still reports the account active"
        return {"status": "failed", "retryable": False, "detail": detail, **found}
    return {"status": "deactivated", **found}


def _chosen(tenant: TenantRuntime, names: tuple[str, ...] | None) -> list[AppRuntime]:
    if names is None:
        return list(tenant.apps.values())
    unknown = [name for name in names if name not in tenant.apps]
    if unknown:
        raise InvalidValueException(detail=f"tenant {tenant.name!r} has no app {', '.join(map(repr, unknown))}")
    return [tenant.apps[name] for name in dict.fromkeys(names)]


def parse_offboarding(body: Any) -> Offboarding:
    """The request body as an Offboarding; raises InvalidValueException (400) naming the bad key."""
    if not isinstance(body, dict):
        raise InvalidValueException(detail="the body must be a JSON object")
    unknown = set(body) - {"userName", "mode", "dry_run", "apps"}
    if unknown:
        raise InvalidValueException(detail=f"unknown keys: {', '.join(sorted(unknown))}")
    user_name, apps = body.get("userName"), body.get("apps")
    mode, dry_run = body.get("mode", "deactivate"), body.get("dry_run", False)
    if not isinstance(user_name, str) or not user_name.strip() or len(user_name) > MAX_VALUE:
        raise InvalidValueException(detail=f"userName must be a non-empty string of at most {MAX_VALUE} characters")
    if mode not in ("deactivate", "delete"):
        raise InvalidValueException(detail='mode must be "deactivate" or "delete"')
    if not isinstance(dry_run, bool):
        raise InvalidValueException(detail="dry_run must be true or false")
    if apps is not None and (not isinstance(apps, list) or not apps or not all(isinstance(a, str) for a in apps)):
        raise InvalidValueException(detail="apps must be a non-empty list of app names")
    return Offboarding(user_name, mode, dry_run, None if apps is None else tuple(apps))


def audit_app_result(
    audit: AuditLog, call: Call, app: AppRuntime, result: dict[str, Any], user_name: str, statuses: list[int]
) -> None:
    """One audit record for an app an offboarding acted on (or failed to), shaped as every audit record.

    `outcome` is the app's result (deactivated, failed, ...); `statuses` its vendor exchanges. The
    call's own record (its HTTP status and duration) follows once the whole call is answered.
    """
    audit.record(
        {
            "request_id": call.request_id,
            "tenant": call.tenant,
            "app": app.name,
            "vendor": app.vendor,
            "token_name": call.token_name,
            "client_ip": call.client_ip,
            "method": call.method,
            "route": call.route,
            "operation": call.operation + ".app",
            "resource_type": Kind.USER.value,
            "resource_id": result.get("id"),
            "target_user": audit.target(user_name),
            "outcome": result["status"],
            "status": None,
            "scim_type": None,
            "upstream_calls": len(statuses),
            "upstream_statuses": list(statuses),
            "duration_ms": None,
        }
    )


async def offboard_endpoint(admin: AdminCall) -> Response:
    request = parse_offboarding(await read_json(admin.request, MAX_BODY_BYTES))
    admin.call.user_name = request.user_name

    def audited(app: AppRuntime, result: dict[str, Any]) -> None:
        if not request.dry_run:
            statuses = admin.vendor_calls.get(app.name, [])
            audit_app_result(admin.runtime.audit, admin.call, app, result, request.user_name, statuses)

    answer = await offboard(admin.tenant, request, admin.budget, on_result=audited)
    return json_response(answer)
