"""Orca Security simulator: the SCIM surface (`/scim/v2`, its own bearer token).

Traps from Orca's guide, reproduced: the SCIM token is not the REST API
token (a REST token sent to SCIM is refused, which in production looks like
provisioning "silently failing"); SCIM Groups have list, create, PUT and
delete only: no GET /Groups/{id} and no PATCH /Groups/{id} (405).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scim2_server.errors import MethodNotAllowedException
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse

from vendors.simulators.base import Simulator
from vendors.simulators.scim_surface import ScimSurface
from vendors.simulators.seed import demo_data, demo_secret

SCIM_PREFIX = "/scim"
REST_TOKEN_ON_SCIM = (
    "this is an Orca REST API token (Settings > API Tokens); SCIM needs the SCIM token from Settings > SSO > SCIM"
)


@dataclass(frozen=True)
class OrcaSimSettings:
    seed: str
    scim_token: str
    rest_token: str
    users: int = 5


class OrcaScimSurface(ScimSurface):
    async def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        parts = [part for part in request.path.split("/") if part]
        if len(parts) == 2 and parts[0] == "Groups" and request.method.upper() in ("GET", "PATCH"):
            raise MethodNotAllowedException(allowed=("PUT", "DELETE"), detail="Orca SCIM Groups support PUT and DELETE")
        return await super().dispatch_request(request)


class OrcaSimulator:
    def demo_settings(self, seed: str) -> OrcaSimSettings:
        return OrcaSimSettings(
            seed=seed, scim_token=demo_secret("orca", seed, "scim"), rest_token=demo_secret("orca", seed, "rest")
        )

    def create_app(self, settings: OrcaSimSettings) -> Simulator:
        surface = OrcaScimSurface(settings.scim_token, {settings.rest_token: REST_TOKEN_ON_SCIM})
        surface.seed(demo_data(settings.seed, settings.users))

        def state() -> dict[str, Any]:
            return {"scim": surface.state()}

        return Simulator("orca", [(SCIM_PREFIX, surface)], state=state)

    def scim_base_path(self, settings: OrcaSimSettings) -> str:
        return SCIM_PREFIX + "/v2"

    def demo_credentials(self, settings: OrcaSimSettings) -> dict[str, str]:
        return {"scim_token": settings.scim_token, "rest_token": settings.rest_token}
