"""What the gateway learns about one inbound call, recorded once its outcome is known.

The orchestrator fills a `Call` as the request moves through it (tenant,
token name, app, operation, target); `finish` then emits exactly one audit
record and the request metrics, whatever happened: success, 401, 429,
vendor failure, a bug, a client that went away (recorded as 499, the status
nginx uses for it), or the server cutting the request at the end of its
shutdown drain (503, outcome "shutdown"). Non-SCIM calls (/status,
unknown paths) are audited the same way but not counted in the SCIM request
metrics; probes and scrapes (/healthz, /readyz, /metrics) are not audited.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from secrets import token_hex
from typing import TYPE_CHECKING

from scim2_models import NotFoundException
from starlette.requests import Request
from starlette.responses import Response

from gateway.inbound.render import render_error
from gateway.observability.metrics import UNKNOWN
from gateway.scim.http import header
from gateway.scim.routes import MethodNotAllowed

if TYPE_CHECKING:
    from gateway.observability.audit import AuditLog
    from gateway.observability.metrics import Metrics

_SCIM_PATH = re.compile(r"^/tenants/[^/]+/apps/[^/]+/scim/v2(/|$)")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_OUTCOMES = {401: "denied", 403: "denied", 429: "throttled", 499: "cancelled", 501: "unsupported", 500: "error"}
#: Status recorded when the request was cancelled before it produced a response.
CANCELLED = 499


@dataclass(slots=True)
class Call:
    request_id: str
    method: str
    client_ip: str | None
    started: float
    tenant: str | None = None
    tenant_known: bool = False
    app: str | None = None
    vendor: str | None = None
    token_name: str | None = None
    operation: str = UNKNOWN
    route: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    user_name: str | None = None
    scim_type: str | None = None
    upstream: list[int] = field(default_factory=list)
    #: The server cut the request at the end of its shutdown drain (answered 503, audited as "shutdown").
    cut_by_shutdown: bool = False
    #: The deprovisioning guard's verdict on this call (pass, held, approved, refused), when it decided one.
    deprovision_guard: str | None = None
    #: A dry-run app's write: recorded, not sent to the vendor.
    dry_run: bool = False

    @classmethod
    def begin(cls, request: Request, route: str | None = None, operation: str = UNKNOWN) -> Call:
        """Start a call; honours a sane X-Request-ID from the caller, else makes one.

        `route` is the route template known so far (refined once the path is parsed).
        """
        given = header(request, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else new_request_id()
        client = request.scope.get("client")
        return cls(
            request_id=request_id,
            method=request.method,
            client_ip=client[0] if client else None,
            started=time.perf_counter(),
            route=route,
            operation=operation,
        )

    def finish(self, response: Response | None, metrics: Metrics | None, audit: AuditLog) -> None:
        """Emit the metrics and the one audit record of this call; tag the response with its id.

        `response` None means the request was cancelled (recorded as 499); `metrics`
        None keeps non-SCIM calls out of the SCIM request metrics.
        """
        seconds = time.perf_counter() - self.started
        status = CANCELLED if response is None else response.status_code
        if metrics is not None:
            tenant = self.tenant if self.tenant_known else UNKNOWN
            metrics.observe_request(tenant or UNKNOWN, self.app or UNKNOWN, self.operation, status, seconds)
        fields = {
            "request_id": self.request_id,
            "tenant": self.tenant,
            "app": self.app,
            "vendor": self.vendor,
            "token_name": self.token_name,
            "client_ip": self.client_ip,
            "method": self.method,
            "route": self.route,
            "operation": self.operation,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "target_user": audit.target(self.user_name),
            "outcome": "shutdown" if self.cut_by_shutdown else outcome(status),
            "status": status,
            "scim_type": self.scim_type,
            "upstream_calls": len(self.upstream),
            "upstream_statuses": self.upstream,
            "duration_ms": int(seconds * 1_000_000) / 1000,  # to the µs
        }
        # Present only where they apply, so every other record keeps its shape.
        if self.deprovision_guard is not None:
            fields["deprovision_guard"] = self.deprovision_guard
        if self.dry_run:
            fields["dry_run"] = True
        audit.record(fields)
        if response is not None:
            # Appended to the raw list: only finish() sets this header, so there is no other to replace.
            response.raw_headers.append((b"x-request-id", self.request_id.encode("latin-1")))


def new_request_id() -> str:
    """128 random bits as 32 hex digits (the shape of uuid4().hex)."""
    return token_hex(16)


def outcome(status: int) -> str:
    if status < 400:
        return "success"
    if status in _OUTCOMES:
        return _OUTCOMES[status]
    return "vendor_error" if status >= 502 else "rejected"


async def unrouted(request: Request) -> Response:
    """Any path or method the gateway does not serve: a SCIM 404 (405 below a SCIM root), audited like every call."""
    call = Call.begin(request, operation="unrouted")
    if _SCIM_PATH.match(request.url.path):
        error: Exception = MethodNotAllowed(detail=f"{request.method} is not allowed on SCIM endpoints")
    else:
        error = NotFoundException(detail="no such endpoint")
    response = render_error(error)
    call.finish(response, None, request.app.state.runtime.audit)
    return response
