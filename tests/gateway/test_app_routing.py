"""The SCIM route goes through starlette's router like every other route: a middleware added later sees it."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.app import create_app
from gateway.inbound.serving import serving
from tests.resilience.harness import app_config, gateway_config, scim_client, simulator


class Recorder:
    """A pure ASGI middleware that notes the path of every HTTP request it passes on."""

    seen: list[str] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            Recorder.seen.append(scope["path"])
        await self.app(scope, receive, send)


async def test_a_middleware_added_to_the_app_sees_scim_requests_and_unknown_paths_alike() -> None:
    Recorder.seen = []
    async with simulator() as sim:
        app = create_app(gateway_config({"acme": {"apps": {"invicti": app_config(sim)}}}))
        app.add_middleware(Recorder)
        async with serving(app) as server, scim_client(server, "acme", "invicti") as client:
            users = await client.get("/Users", params={"count": "1"})
            unknown = await client.get("/Nope")
            outside = await client.get(server.url + "/elsewhere")
    assert (users.status_code, unknown.status_code, outside.status_code) == (200, 404, 404)
    root = "/tenants/acme/apps/invicti/scim/v2"
    assert Recorder.seen == [f"{root}/Users", f"{root}/Nope", "/elsewhere"]
