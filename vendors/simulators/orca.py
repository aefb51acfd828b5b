"""Orca Security simulator: the SCIM surface (`/scim/v2`) and the REST API (`/api`) of one account.

Traps from Orca's guide, reproduced: the SCIM token is not the REST API
token (a REST token sent to SCIM is refused, and the SCIM token sent to REST
too, which in production looks like provisioning "silently failing"); SCIM
Groups have list, create, PUT and delete only: no GET /Groups/{id} and no
PATCH /Groups/{id} (405). SCIM and REST are separate, eventually consistent
systems, so each keeps its own store; the REST traps are in orca_rest.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scim2_server.errors import MethodNotAllowedException
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse

from vendors.simulators.base import Simulator
from vendors.simulators.console import Console
from vendors.simulators.orca_rest import ROLES, OrcaConsole, OrcaRestSurface, OrcaUserStore
from vendors.simulators.scim_surface import ScimConsole, ScimSurface
from vendors.simulators.seed import demo_data, demo_secret

SCIM_PREFIX = "/scim"
REST_PREFIX = "/api"
REST_TOKEN_ON_SCIM = (
    "this is an Orca REST API token (Settings > API Tokens); SCIM needs the SCIM token from Settings > SSO > SCIM"
)


@dataclass(frozen=True)
class OrcaSimSettings:
    seed: str
    scim_token: str
    rest_token: str
    users: int = 5
    #: REST users (default: as many as `users`); beyond the demo people they are user0005@<seed>.example, ...
    rest_users: int | None = None
    #: The silent cap on REST list pages, whatever `limit` asks.
    rest_page_cap: int = 50
    #: Eventual consistency of REST reads: a write shows after this many reads and this many seconds.
    rest_lag_reads: int = 1
    rest_lag_seconds: float = 0.0
    clock: Callable[[], float] = time.monotonic
    roles: tuple[str, ...] = ROLES


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
        store = rest_store(settings)
        rest = OrcaRestSurface(store, settings.rest_token, settings.scim_token, settings.rest_page_cap)

        def state() -> dict[str, Any]:
            return {"scim": surface.state(), "rest": store.state()}

        consoles: dict[str, Console] = {"rest": OrcaConsole(store), "scim": ScimConsole(surface)}
        simulator = Simulator("orca", [(SCIM_PREFIX, surface), (REST_PREFIX, rest)], state=state, consoles=consoles)
        simulator.rest_store = store  # type: ignore[attr-defined]  # for tests: accept invites, inspect
        return simulator

    def scim_base_path(self, settings: OrcaSimSettings) -> str:
        return SCIM_PREFIX + "/v2"

    def demo_credentials(self, settings: OrcaSimSettings) -> dict[str, str]:
        return {"scim_token": settings.scim_token, "rest_token": settings.rest_token}


def rest_store(settings: OrcaSimSettings) -> OrcaUserStore:
    """The REST users, seeded from the same demo people as SCIM (with roles; the last one still invited).

    The first user holds the first role (Admin), the others the second (Viewer); further roles start empty.
    """
    store = OrcaUserStore(settings.roles, settings.rest_lag_reads, settings.rest_lag_seconds, settings.clock)
    count = settings.users if settings.rest_users is None else settings.rest_users
    people = demo_data(settings.seed, min(count, settings.users)).users
    for index in range(count):
        if index < len(people):
            email, name = people[index]["userName"], people[index]["displayName"]
        else:
            email, name = f"user{index:04d}@{settings.seed}.example", f"User {index:04d}"
        invited = index == len(people) - 1 and index > 0
        store.seed(
            {
                "email": email,
                "name": name,
                "role": settings.roles[0] if index == 0 else settings.roles[min(1, len(settings.roles) - 1)],
                "status": "invited" if invited else "active",
                "accepted": not invited,
            }
        )
    return store
