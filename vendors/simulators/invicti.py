"""Invicti Platform simulator: Identity SCIM v2 at `/api/scim/v2`, 1-based paging, bearer auth.

Invicti's examples spell filter operators capitalised (`userName Eq "x"`);
the simulator accepts that spelling (and RFC's), and its request log lets
tests see which one the gateway sent. User DELETE is permanent.

Optionally (`oauth_client`) it also serves an OAuth2 client-credentials token
endpoint at `/oauth/token` and accepts the short-lived tokens it issues beside
the static bearer: Invicti Platform's API accepts both. The token URL is not
in Invicti's public SCIM guide, so the gateway is always told it explicitly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from scim2_server.requests import ScimRequest

from vendors.simulators.base import Simulator
from vendors.simulators.delinea_token import ApiClient, TokenIssuer
from vendors.simulators.scim_surface import ScimConsole, ScimSurface
from vendors.simulators.seed import demo_data, demo_secret

SCIM_PREFIX = "/api/scim"
TOKEN_PATH = "/oauth/token"


@dataclass(frozen=True)
class InvictiSimSettings:
    seed: str
    scim_token: str
    users: int = 5
    #: (client_id, client_secret) of an API client; None: no token endpoint, static bearer only.
    oauth_client: tuple[str, str] | None = None
    token_lifetime: float = 300.0
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)


class InvictiScimSurface(ScimSurface):
    """The SCIM surface, also accepting live access tokens from the simulator's token endpoint."""

    def __init__(self, token: str, issuer: TokenIssuer | None) -> None:
        super().__init__(token)
        self.issuer = issuer

    def check_auth(self, request: ScimRequest) -> None:
        scheme, _, credential = (request.header("Authorization") or "").partition(" ")
        live = self.issuer is not None and self.issuer.check(credential.strip()) is not None
        if not (live and scheme.lower() == "bearer"):
            super().check_auth(request)


class InvictiSimulator:
    def demo_settings(self, seed: str) -> InvictiSimSettings:
        return InvictiSimSettings(seed=seed, scim_token=demo_secret("invicti", seed, "scim"))

    def create_app(self, settings: InvictiSimSettings) -> Simulator:
        issuer = None
        if settings.oauth_client is not None:
            client = ApiClient(*settings.oauth_client, scopes=())
            issuer = TokenIssuer([client], settings.token_lifetime, settings.clock, path=TOKEN_PATH)
        surface = InvictiScimSurface(settings.scim_token, issuer)
        surface.seed(demo_data(settings.seed, settings.users))
        mounts = [(SCIM_PREFIX, surface)] + ([("/oauth", issuer)] if issuer is not None else [])
        simulator = Simulator("invicti", mounts, state=surface.state, consoles={"scim": ScimConsole(surface)})
        simulator.issuer = issuer  # type: ignore[attr-defined]  # in-process handle for tests
        return simulator

    def scim_base_path(self, settings: InvictiSimSettings) -> str:
        return SCIM_PREFIX + "/v2"

    def demo_credentials(self, settings: InvictiSimSettings) -> dict[str, str]:
        credentials = {"scim_token": settings.scim_token}
        if settings.oauth_client is not None:
            credentials.update(client_id=settings.oauth_client[0], client_secret=settings.oauth_client[1])
        return credentials
