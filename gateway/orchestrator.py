"""One SCIM request, top to bottom.

resolve tenant -> authenticate (failed attempts throttled: 429) -> resolve
app -> route -> admit through the inbound throttle (429) -> parse and validate
-> deprovisioning guard (503 while held) -> call the app's operations (native,
synthesised, or 501; a dry-run app's writes recorded) -> present ->
render -> record (one audit record and the metrics, whatever the outcome).
Every exception on the way is rendered in one place (gateway/inbound/render.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from scim2_models import Context, NotFoundException
from starlette.requests import Request
from starlette.responses import Response

from gateway.backed.versions import none_match
from gateway.deprovisioning.gate import deprovision_guard
from gateway.inbound.recording import Call
from gateway.inbound.render import render_error
from gateway.observability.metrics import UNKNOWN
from gateway.outbound.budget import CallBudget
from gateway.runtime import AppRuntime, Runtime
from gateway.scim import query as list_query
from gateway.scim.http import error_response, header, list_response, read_json, scim_response
from gateway.scim.limits import check_resource
from gateway.scim.models import parse_request
from gateway.scim.patch import normalise_patch
from gateway.scim.present import core_schema, present
from gateway.scim.projection import Spec, parse_specs
from gateway.scim.routes import SCIM_ROOT, Target, route
from vendors.base import Kind, Op

MAX_BODY_BYTES = 1024 * 1024
_RETRY = {"Retry-After": "1"}  # another replica (or this one, restarted) can serve the retry at once
_WRITES = frozenset({"create", "replace", "patch", "delete"})
DRY_RUN_HEADER = "X-Scim-Gateway-Dry-Run"
_ACTION_OPS = {
    "list": Op.SEARCH,
    "search": Op.SEARCH,
    "get": Op.GET,
    "create": Op.CREATE,
    "replace": Op.REPLACE,
    "patch": Op.PATCH,
    "delete": Op.DELETE,
}


async def handle_scim(request: Request) -> Response:
    """The endpoint behind /tenants/{tenant}/apps/{app}/scim/v2/{rest}."""
    runtime: Runtime = request.app.state.runtime
    call = Call.begin(request, route=SCIM_ROOT + "{rest}")
    runtime.metrics.in_flight.value += 1
    try:
        response = await _authorised(runtime, call, request)
    except asyncio.CancelledError:
        # Only the server cancels a request: its shutdown drain (server.drain_timeout) ran out. The caller
        # gets an answer it can retry elsewhere, and the audit says what happened.
        asyncio.current_task().uncancel()  # type: ignore[union-attr]  # a request always runs in a task
        call.cut_by_shutdown = True
        response = error_response(503, "the gateway shut down before the request finished; retry", None, _RETRY)
    except Exception as exc:
        call.scim_type = getattr(exc, "scim_type", None) or None
        response = render_error(exc)
    finally:
        runtime.metrics.in_flight.value -= 1
    call.finish(response, runtime.metrics, runtime.audit)
    return response


async def _authorised(runtime: Runtime, call: Call, request: Request) -> Response:
    params = request.path_params
    call.tenant = params["tenant"][:64]
    call.tenant_known = params["tenant"] in runtime.tenants
    call.token_name = await _authenticate(runtime, call, params["tenant"], header(request, b"authorization"))
    app = runtime.tenants[params["tenant"]].app(params["app"])
    call.app, call.vendor = app.name, app.vendor
    # Routing reads only the path (no I/O, no body) and the caller is authenticated by now: routed before
    # admission, so a throttled call is recorded with its operation and route.
    target = route(request.method, params["rest"])
    call.operation, call.route = target.action, SCIM_ROOT + target.template
    call.resource_type = target.kind.value if target.kind else None
    call.resource_id = target.ident
    # The request's deadline bounds every wait from here on; its vendor calls' statuses land in the audit record.
    budget = CallBudget.starting_now(app.guard.clock, app.guard.retry.deadline, call.upstream, call.request_id)
    await app.admission.admit(budget.deadline)  # inbound throttle: wait up to max_wait, else 429 with Retry-After
    response = await _serve(app, target, request, _base_url(request, app), call, budget)
    if app.dry_run and target.action in _WRITES:  # recorded, not sent (gateway/dryrun/)
        call.dry_run = True
        response.headers[DRY_RUN_HEADER] = "true"
    return response


async def _authenticate(runtime: Runtime, call: Call, tenant: str, authorization: str | None) -> str:
    """The caller's token name; raises UnauthorizedException (401) or Throttled (429, failed attempts).

    An unknown tenant is a tenant without tokens: the same throttle and the same 401 bytes as a wrong
    token of a known one, so tenant names cannot be probed. A value the tenant accepted before skips
    the failure throttle, so a flood of bad tokens never locks out an IdP whose token works.
    """
    verifier = runtime.verifier(tenant)
    name = verifier.accepted(authorization)
    if name is None:
        label = tenant if call.tenant_known else UNKNOWN
        await runtime.failed_auth.admit_check(tenant[:64], call.client_ip, label)
        name = verifier.verify(authorization)
    return name


def _base_url(request: Request, app: AppRuntime) -> str:
    """The app's SCIM root: under the configured public URL, else as the caller reached it (scheme and Host).

    The scheme is the one uvicorn's proxy-headers support settled (X-Forwarded-Proto from a trusted peer).
    """
    if app.public_base is not None:
        return app.public_base
    host = header(request, b"host")
    netloc = host if host else request.url.netloc  # no Host (HTTP/1.0): the server's own address
    return f"{request.scope['scheme']}://{netloc}{app.scim_path}"


async def _serve(
    app: AppRuntime, target: Target, request: Request, base: str, call: Call, budget: CallBudget
) -> Response:
    if target.kind is None:
        return _discovery(app, target, base)
    kind, ident, ops = target.kind, target.ident, app.operations
    action = target.action
    ops.require(kind, _ACTION_OPS[action])  # 501 before reading the body or calling the vendor
    if action in ("list", "search"):
        return await _list(app, kind, request, base, budget)
    include, exclude = _projection(request, app, kind)
    ident = ident or ""  # every action past here but create names a resource (the router saw to it)
    versioned = _versioned(app, kind)
    if_match = header(request, b"if-match") if versioned else None
    if action == "get":
        resource = await ops.get(budget, kind, ident)
        version = _version(resource) if versioned else None
        if version is not None and none_match(header(request, b"if-none-match"), version):
            return Response(status_code=304, headers={"ETag": version})
    elif action == "create":
        body = _validated(app, kind, await read_json(request, MAX_BODY_BYTES), Context.RESOURCE_CREATION_REQUEST)
        call.user_name = body.get("userName")
        created = present(kind, await ops.provision(budget, kind, body), base, include, exclude, versioned)
        call.resource_id = created["id"]
        return scim_response(created, status=201, headers=_headers(created, {"Location": created["meta"]["location"]}))
    elif action == "replace":
        body = _validated(app, kind, await read_json(request, MAX_BODY_BYTES), Context.RESOURCE_REPLACEMENT_REQUEST)
        call.user_name = body.get("userName")
        async with deprovision_guard(app, call, budget, kind, ident, replacing=body):  # 503 while held
            resource = await ops.replace(budget, kind, ident, body, if_match=if_match)
    elif action == "patch":
        patch = normalise_patch(ops.schemas[kind], await read_json(request, MAX_BODY_BYTES), ident)
        async with deprovision_guard(app, call, budget, kind, ident, patching=patch):
            resource = await ops.patch(budget, kind, ident, patch, if_match=if_match)
    else:
        async with deprovision_guard(app, call, budget, kind, ident, deleting=True):
            await ops.delete(budget, kind, ident, if_match=if_match)
        return Response(status_code=204)
    call.user_name = call.user_name or resource.get("userName")
    shown = present(kind, resource, base, include, exclude, versioned)
    return scim_response(shown, headers=_headers(shown, None))


def _versioned(app: AppRuntime, kind: Kind) -> bool:
    """Whether `kind`'s resources carry versions: Users of an app with a directory (RFC 7644 section 3.14)."""
    return app.resources is not None and kind is Kind.USER


def _version(resource: dict[str, Any]) -> str | None:
    version = (resource.get("meta") or {}).get("version")
    return version if isinstance(version, str) else None


def _headers(resource: dict[str, Any], headers: dict[str, str] | None) -> dict[str, str] | None:
    """`ETag` beside the body's meta.version (RFC 7644 section 3.14), for a versioned resource."""
    version = _version(resource)
    if version is None:
        return headers
    return {**(headers or {}), "ETag": version}


async def _list(app: AppRuntime, kind: Kind, request: Request, base: str, budget: CallBudget) -> Response:
    if request.method == "POST":
        parsed = list_query.from_search_body(
            app.operations.schemas[kind], await read_json(request, MAX_BODY_BYTES), app.max_results
        )
    else:
        parsed = list_query.from_query_params(app.operations.schemas[kind], request.query_params, app.max_results)
    page = await app.operations.search(budget, kind, parsed)
    core, extensions = core_schema(kind), app.operations.schemas.extension_urns[kind]
    include = parse_specs(parsed.attributes, core, extensions)
    exclude = parse_specs(parsed.excluded_attributes, core, extensions)
    versioned = _versioned(app, kind)
    resources = [present(kind, resource, base, include, exclude, versioned) for resource in page.resources]
    return list_response(resources, page.total, parsed.start_index)


def _discovery(app: AppRuntime, target: Target, base: str) -> Response:
    discovery = app.discovery
    if target.action == "config":
        return scim_response(discovery.service_provider_config(base))
    if target.ident is None:
        documents = discovery.resource_types(base) if target.action == "resource_types" else discovery.schemas(base)
        return list_response(documents, len(documents), 1)
    found = (
        discovery.resource_type(target.ident, base)
        if target.action == "resource_types"
        else discovery.schema(target.ident, base)
    )
    if found is None:
        raise NotFoundException(detail=f"no such {target.action.rstrip('s')}: {target.ident}")
    return scim_response(found)


def _validated(app: AppRuntime, kind: Kind, body: Any, context: Context) -> dict[str, Any]:
    return parse_request(app.operations.schemas[kind], body, context)


def _projection(request: Request, app: AppRuntime, kind: Kind) -> tuple[list[Spec], list[Spec]]:
    if not request.scope.get("query_string"):
        return [], []  # no query at all: skip parsing one (the common GET by id)
    query = request.query_params
    if "attributes" not in query and "excludedAttributes" not in query:
        return [], []
    include, exclude = _names(query.get("attributes")), _names(query.get("excludedAttributes"))
    check_resource({"attributes": include, "excludedAttributes": exclude}, members=False)
    core, extensions = core_schema(kind), app.operations.schemas.extension_urns[kind]
    return parse_specs(include, core, extensions), parse_specs(exclude, core, extensions)


def _names(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part.strip()]
