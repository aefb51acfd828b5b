"""Invicti Platform simulator: Identity SCIM v2 at `/api/scim/v2`, 1-based paging, bearer auth.

Invicti's examples spell filter operators capitalised (`userName Eq "x"`);
the simulator accepts that spelling (and RFC's), and its request log lets
tests see which one the gateway sent. User DELETE is permanent.
"""

from __future__ import annotations

from dataclasses import dataclass

from vendors.simulators.base import Simulator
from vendors.simulators.scim_surface import ScimSurface
from vendors.simulators.seed import demo_data, demo_secret

SCIM_PREFIX = "/api/scim"


@dataclass(frozen=True)
class InvictiSimSettings:
    seed: str
    scim_token: str
    users: int = 5


class InvictiSimulator:
    def demo_settings(self, seed: str) -> InvictiSimSettings:
        return InvictiSimSettings(seed=seed, scim_token=demo_secret("invicti", seed, "scim"))

    def create_app(self, settings: InvictiSimSettings) -> Simulator:
        surface = ScimSurface(settings.scim_token)
        surface.seed(demo_data(settings.seed, settings.users))
        return Simulator("invicti", [(SCIM_PREFIX, surface)], state=surface.state)

    def scim_base_path(self, settings: InvictiSimSettings) -> str:
        return SCIM_PREFIX + "/v2"

    def demo_credentials(self, settings: InvictiSimSettings) -> dict[str, str]:
        return {"scim_token": settings.scim_token}
