"""The ASGI application: a short, explicit route list; long-lived objects made in lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.config import GatewayConfig
from gateway.orchestrator import handle_scim
from gateway.runtime import build_runtime

SCIM_ROOT = "/tenants/{tenant}/apps/{app}/scim/v2"
_SCIM_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def create_app(config: GatewayConfig) -> Starlette:
    """Build the gateway for a validated config. Sessions open at startup and close at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.runtime = build_runtime(config)
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            await app.state.runtime.close()

    routes = [
        Route(SCIM_ROOT + "{rest:path}", handle_scim, methods=_SCIM_METHODS),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ready = False
    return app


async def healthz(request: Request) -> Response:
    """Liveness: the process serves HTTP."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: config loaded and runtime built. A vendor being down does not make us unready."""
    ready = getattr(request.app.state, "ready", False)
    return JSONResponse({"status": "ready" if ready else "starting"}, status_code=200 if ready else 503)
