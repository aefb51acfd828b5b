"""The ASGI application: a short, explicit route list; long-lived objects made in lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway import gateway_version
from gateway.admin.routes import admin_routes
from gateway.backed.manual.tasks import working
from gateway.backed.recovery import sweep_forever
from gateway.background import in_background
from gateway.clock import Clock
from gateway.config import GatewayConfig
from gateway.directory.availability import preparing
from gateway.directory.store import Directory, build_directory, prepare
from gateway.inbound.recording import unrouted
from gateway.inbound.serving import start_server
from gateway.observability.health import health_checks
from gateway.observability.metrics import Metrics
from gateway.observability.rates import sample_forever
from gateway.observability.status import StatusPage, status
from gateway.orchestrator import handle_scim
from gateway.reconcile.reconciler import Reconciler
from gateway.runtime import Runtime, build_runtime, needs_directory
from gateway.scim.routes import SCIM_ROOT
from gateway.startup import collector_paused

_SCIM_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
#: How long start-up waits for the directory's first preparation attempt (a reachable database is ready
#: before the first request; an unreachable one is retried in the background while the gateway serves).
DIRECTORY_FIRST_WAIT = 10.0


def create_app(config: GatewayConfig) -> Starlette:
    """Build the gateway for a validated config. Sessions, metrics and audit live from startup to shutdown.

    Once started, `app.state.metrics_url` is where the separate metrics port serves /metrics (None without one).
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        registry = Metrics(gateway_version())
        directory = None
        if config.directory is not None and needs_directory(config):
            directory = build_directory(config.directory, observe=registry.observe_directory)
        with collector_paused():
            runtime = build_runtime(config, gateway_version(), directory, registry)
            if directory is not None:
                runtime.reconciler = Reconciler(runtime, directory)
            app.state.runtime = runtime
            app.state.status_page = StatusPage.build(runtime, gateway_version())
        # The runtime lives until shutdown: keep it out of later collections, which otherwise walk every
        # tenant's objects on the request path (10,000 tenants doubled the CPU per request).
        gc.collect()
        gc.freeze()
        observability = config.observability
        metrics_server = None
        app.state.metrics_url = None
        if observability.metrics_port is not None:
            metrics_app = Starlette(routes=[Route("/metrics", metrics, methods=["GET"])])
            metrics_app.state.runtime = runtime
            # log_config=None: the process's logging (JSON lines) is left as the CLI configured it.
            metrics_server = await start_server(
                metrics_app, observability.metrics_host, observability.metrics_port, log_config=None
            )
            app.state.metrics_url = metrics_server.url + "/metrics"
        checks = health_checks(runtime, observability.health_check_interval)
        reconciling = runtime.reconciler.scheduled() if runtime.reconciler else contextlib.nullcontext()
        async with (
            _prepared(directory, config),
            checks,
            sample_forever(app.state.status_page.rates),
            settling(runtime),
            working(runtime),
            reconciling,
        ):
            app.state.ready = True
            try:
                yield
            finally:
                app.state.ready = False
                await _answered(runtime)
                if metrics_server is not None:
                    await metrics_server.stop()
                await runtime.close()
                gc.unfreeze()  # collectable again (tests build many apps in one process)

    routes = [
        Route(SCIM_ROOT + "{rest:path}", ScimEndpoint(), methods=_SCIM_METHODS),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if config.observability.metrics_on_main_port:
        routes.append(Route("/metrics", metrics, methods=["GET"]))
    if config.observability.operator_tokens:
        routes.append(Route("/status", status, methods=["GET", "POST"]))
        routes.extend(admin_routes(config))  # /admin/v1/tenants/{tenant}/...: gateway/admin/routes.py
    # Last: every other path is a 404 that is still audited (probes and scrapes above are not).
    routes.append(Route("/{path:path}", unrouted, methods=[*_SCIM_METHODS, "HEAD", "OPTIONS"]))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ready = False
    return app


class ScimEndpoint:
    """The SCIM route's endpoint, as an ASGI app (starlette's documented form for a class endpoint).

    handle_scim answers every outcome itself (errors rendered, audit written), so starlette's
    request-response wrapper, whose job is routing exceptions to handlers, has nothing to catch here.
    The route still goes through the router and every middleware like any other.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await handle_scim(Request(scope, receive, send))
        await response(scope, receive, send)


def _prepared(directory: Directory | None, config: GatewayConfig) -> contextlib.AbstractAsyncContextManager[Any]:
    """The directory's schema prepared in the background while the gateway serves (nothing without one)."""
    if directory is None or config.directory is None:
        return contextlib.nullcontext()
    directory_config = config.directory
    ready = directory.availability
    return preparing(ready, lambda: prepare(directory, directory_config), first_wait=DIRECTORY_FIRST_WAIT)


@asynccontextmanager
async def settling(runtime: Runtime) -> AsyncIterator[None]:
    """Settle write intents left by a crash or a lost vendor answer, at start and every `directory.sweep_every`
    seconds (gateway/backed/recovery.py)."""
    settlers = runtime.settlers()
    if not settlers or runtime.config.directory is None:
        yield
        return
    deadline = max(app.guard.retry.deadline for app in runtime.apps())
    every = runtime.config.directory.sweep_every
    async with in_background(sweep_forever(settlers, Clock(), every, deadline), "intent-sweeper"):
        yield


async def _answered(runtime: Runtime, patience: float = 2.0) -> None:
    """Wait (at most `patience` seconds) for requests the server has just cut to send their 503 and audit record.

    Shutdown cancels requests still running at the end of the drain, then shuts the app down at once; the
    runtime (audit log included) must outlive their answers.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + patience
    while runtime.metrics.in_flight.value > 0 and loop.time() < give_up:  # noqa: ASYNC110 (once, at exit; no Event to keep per request)
        await asyncio.sleep(0.01)


async def healthz(request: Request) -> Response:
    """Liveness: the process serves HTTP."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: config loaded, runtime built, and the directory (when an app needs one) prepared and reachable.

    A vendor being down does not make us unready: that is the vendor's outage. The directory is ours: while
    it is down, requests that need it would all fail (gateway/directory/availability.py bounds and caches
    the check). The answer never names the database.
    """
    if not getattr(request.app.state, "ready", False):
        return JSONResponse({"status": "starting"}, status_code=503)
    runtime: Runtime = request.app.state.runtime
    if runtime.directory is not None and not await runtime.directory.availability.ready():
        return JSONResponse({"status": "unavailable", "directory": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    """Prometheus text exposition of this process's registry."""
    runtime: Runtime = request.app.state.runtime
    runtime.metrics.audit_dropped.set(runtime.audit.dropped)
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
