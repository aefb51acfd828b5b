"""The operator CLI directly on a config: the same services as the admin API, run in this process.

The runtime is built as `serve` builds it (directory opened when an app keeps state), used for one
command, then closed. Whoever can read the config holds every credential already, so no scope is
checked; every call is still audited, as `cli:<os user>`, to the configured audit file or else
stderr (stdout carries the command's output).
"""

from __future__ import annotations

import contextlib
import getpass
import time
from collections.abc import AsyncIterator
from typing import IO, Any

from starlette.responses import Response

from gateway import gateway_version
from gateway.admin.accounts import Lookup
from gateway.admin.context import VendorCalls
from gateway.admin.offboard import Offboarding, audit_app_result, offboard
from gateway.admin.people import Progress, find_person
from gateway.admin.review import Format, RowProgress, encode, review_pages
from gateway.admin.roster import Roster
from gateway.config import AuditConfig, GatewayConfig
from gateway.directory.store import open_directory
from gateway.inbound.recording import Call, new_request_id
from gateway.runtime import AppRuntime, Runtime, TenantRuntime, build_runtime, needs_directory


class LocalAdmin:
    """One tenant of a config, served in-process."""

    def __init__(self, config: GatewayConfig, tenant: str) -> None:
        if tenant not in config.tenants:
            raise KeyError(f"no tenant {tenant!r} in the config (it has: {', '.join(config.tenants)})")
        audit = config.observability.audit
        if audit.file is None:
            audit = AuditConfig(file="/dev/stderr", user_name=audit.user_name)
        self.config = config.model_copy(
            update={"observability": config.observability.model_copy(update={"audit": audit})}
        )
        self.tenant = tenant
        self.operator = f"cli:{getpass.getuser()}"

    @property
    def app_count(self) -> int:
        """The apps each command asks (the progress line's total)."""
        return len(self.config.tenants[self.tenant].apps)

    async def find(self, by: Lookup, value: str, progress: Progress | None = None) -> dict[str, Any]:
        async with self._call("admin.people.find", value if by == "userName" else None) as (tenant, _, calls, _):
            answers = await find_person(tenant, by, value, calls.budget, progress)
        return {"tenant": self.tenant, by: value, "apps": answers}

    async def offboard(self, request: Offboarding, progress: Progress | None = None) -> dict[str, Any]:
        async with self._call("admin.people.offboard", request.user_name) as (tenant, call, calls, runtime):

            def audited(app: AppRuntime, result: dict[str, Any]) -> None:
                if not request.dry_run:
                    statuses = calls.get(app.name, [])
                    audit_app_result(runtime.audit, call, app, result, request.user_name, statuses)

            return await offboard(tenant, request, calls.budget, progress, audited)

    async def review(self, fmt: Format, out: IO[bytes], roster: Roster | None, progress: RowProgress | None) -> None:
        async with self._call("admin.access_review", None) as (tenant, _, calls, _):
            async for chunk in encode(review_pages(tenant, roster, calls.budget, progress), fmt):
                out.write(chunk)

    @contextlib.asynccontextmanager
    async def _call(
        self, action: str, user_name: str | None
    ) -> AsyncIterator[tuple[TenantRuntime, Call, VendorCalls, Runtime]]:
        """The runtime for one command, and its audit record (status 200 once done, 500 if it raised)."""
        call = Call(request_id=new_request_id(), method="CLI", client_ip=None, started=time.perf_counter())
        call.tenant, call.tenant_known, call.token_name = self.tenant, True, self.operator
        call.operation, call.route, call.user_name = action, "cli", user_name
        calls = VendorCalls()
        async with _runtime(self.config) as runtime:
            status = 500
            try:
                yield runtime.tenants[self.tenant], call, calls, runtime
                status = 200
            finally:
                calls.settle(call)
                call.finish(Response(status_code=status), None, runtime.audit)


@contextlib.asynccontextmanager
async def _runtime(config: GatewayConfig) -> AsyncIterator[Runtime]:
    directory = None
    if config.directory is not None and needs_directory(config):
        directory = await open_directory(config.directory)
    runtime = build_runtime(config, gateway_version(), directory)
    try:
        yield runtime
    finally:
        await runtime.close()
