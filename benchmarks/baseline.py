"""The baseline: the hand-written SCIM proxy the gateway must beat.

What a competent engineer would write in an afternoon: starlette on stock
uvicorn (uvloop, httptools, no access log, no Server header), one shared
aiohttp ClientSession, orjson. Stock is the point: the gateway's server
settings (gateway.inbound.serving, with read timeouts and a connection cap) are part
of what is being measured, so the baseline does not borrow them. It checks the inbound bearer token
(constant-time compare), swaps it for the vendor's, forwards the path and
query verbatim, and reshapes the JSON answer: `meta.location` of the
resource (or of each resource of a ListResponse) is rewritten to the proxy's
own URL and `meta.version` dropped, so both proxies answer the same bytes.
No validation, no PATCH normalisation, no audit, no metrics. The `orca` app
(translated: SCIM to Orca REST) is served by benchmarks/baseline_orca.py.

Run alone: `BENCH_INBOUND_TOKEN=... BENCH_UPSTREAM_TOKEN=... python -m benchmarks.baseline
--port 9002 --upstream http://127.0.0.1:9001/v2 --orca http://127.0.0.1:9001/api`.
"""

from __future__ import annotations

import argparse
import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks.baseline_orca import orca_handler
from benchmarks.processes import LOOPBACK, require_loopback

_MEDIA_TYPE = "application/scim+json"
_UNAUTHORIZED = orjson.dumps(
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401", "detail": "bad token"}
)


def create_app(upstream: str, inbound_token: str, upstream_token: str, orca: str | None = None) -> Starlette:
    """A proxy from /tenants/{tenant}/apps/{app}/scim/v2/{rest} to `upstream`/{rest}; app `orca` to Orca REST."""
    expected = f"Bearer {inbound_token}".encode()
    upstream = upstream.rstrip("/")
    outbound = {"Authorization": f"Bearer {upstream_token}", "Content-Type": _MEDIA_TYPE, "Accept": _MEDIA_TYPE}
    session: aiohttp.ClientSession | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal session
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        try:
            yield
        finally:
            await session.close()

    async def proxy(request: Request) -> Response:
        if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            return Response(_UNAUTHORIZED, status_code=401, media_type=_MEDIA_TYPE)
        rest = request.path_params["rest"]
        query = request.url.query
        url = f"{upstream}/{rest}" + (f"?{query}" if query else "")
        body = await request.body()
        assert session is not None
        async with session.request(request.method, url, data=body or None, headers=outbound) as answer:
            payload = await answer.read()
            status = answer.status
        if not payload:
            return Response(status_code=status)
        document = orjson.loads(payload)
        root = str(request.url).split("/scim/v2/", 1)[0] + "/scim/v2"
        _relocate(document, root)
        headers = {"Location": document["meta"]["location"]} if status == 201 else None
        return Response(orjson.dumps(document), status_code=status, headers=headers, media_type=_MEDIA_TYPE)

    def current_session() -> aiohttp.ClientSession:
        assert session is not None
        return session

    methods = ["GET", "POST", "PATCH", "PUT"]
    routes = [Route("/healthz", _healthz)]
    if orca is not None:
        translate = orca_handler(orca, current_session, upstream_token)

        async def orca_proxy(request: Request) -> Response:
            if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
                return Response(_UNAUTHORIZED, status_code=401, media_type=_MEDIA_TYPE)
            return await translate(request)

        routes.append(Route("/tenants/{tenant}/apps/orca/scim/v2/{rest:path}", orca_proxy, methods=methods))
    routes.append(Route("/tenants/{tenant}/apps/{app}/scim/v2/{rest:path}", proxy, methods=methods))
    return Starlette(routes=routes, lifespan=lifespan)


def _relocate(document: Any, root: str) -> None:
    """Point `meta.location` of a resource, or of each resource in a ListResponse, at the proxy."""
    resources = document.get("Resources", [document]) if isinstance(document, dict) else []
    for resource in resources:
        meta = resource.get("meta") if isinstance(resource, dict) else None
        if isinstance(meta, dict) and "id" in resource:
            meta["location"] = f"{root}/{meta.get('resourceType', 'User')}s/{resource['id']}"
            meta.pop("version", None)  # like the gateway: ETags are not announced


async def _healthz(request: Request) -> Response:
    return Response(b"ok")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="baseline hand-written SCIM proxy for benchmarks")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the upstream SCIM root, e.g. http://127.0.0.1:9001/v2")
    parser.add_argument("--orca", help="the Orca REST root for the orca app, e.g. http://127.0.0.1:9001/api")
    args = parser.parse_args(argv)
    tokens = os.environ["BENCH_INBOUND_TOKEN"], os.environ["BENCH_UPSTREAM_TOKEN"]
    app = create_app(args.upstream, *tokens, orca=args.orca)
    config = uvicorn.Config(
        app,
        host=require_loopback(args.host),
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        server_header=False,
        log_level="warning",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
