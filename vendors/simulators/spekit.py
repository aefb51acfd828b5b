"""Spekit simulator: SCIM only, at a per-tenant URL (`/scim/<tenant key>/v2`), bearer auth.

Spekit's guide documents no pagination ("Pagination method: none"), so the
simulator ignores `startIndex` and `count` and always answers every match:
a caller that trusts its page size gets everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse

from vendors.simulators.base import Simulator
from vendors.simulators.scim_surface import ScimConsole, ScimSurface
from vendors.simulators.seed import demo_data, demo_secret


@dataclass(frozen=True)
class SpekitSimSettings:
    seed: str
    scim_token: str
    tenant_key: str
    users: int = 5


class SpekitSurface(ScimSurface):
    async def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        if request.method.upper() == "GET" and request.path.rstrip("/") in ("/Users", "/Groups"):
            request.query = {k: v for k, v in request.query.items() if k not in ("startIndex", "count")}
        return await super().dispatch_request(request)


class SpekitSimulator:
    def demo_settings(self, seed: str) -> SpekitSimSettings:
        return SpekitSimSettings(
            seed=seed, scim_token=demo_secret("spekit", seed, "scim"), tenant_key=demo_secret("spekit", seed, "key")
        )

    def create_app(self, settings: SpekitSimSettings) -> Simulator:
        surface = SpekitSurface(settings.scim_token)
        surface.seed(demo_data(settings.seed, settings.users))
        mounts = [(f"/scim/{settings.tenant_key}", surface)]
        return Simulator("spekit", mounts, state=surface.state, consoles={"scim": ScimConsole(surface)})

    def scim_base_path(self, settings: SpekitSimSettings) -> str:
        return f"/scim/{settings.tenant_key}/v2"

    def demo_credentials(self, settings: SpekitSimSettings) -> dict[str, str]:
        return {"scim_token": settings.scim_token}
