"""Delinea Platform simulator: SCIM (`/scim/v2`, static token), REST (`/api/v1`) and OAuth2 on one host.

The SCIM surface is here; the REST users API is vendors/simulators/delinea_rest.py
and its token endpoint vendors/simulators/delinea_token.py. The REST store is
separate from the SCIM store (the simulator does not synchronise them), so a
test sees exactly which surface the gateway wrote to.

SCIM traps from Delinea's guide, reproduced: pages of at most 100 whatever
`count` asks; PATCH answers 204 with no body (`patch_status`, 200 on some
platform versions); a user PUT or PATCH that does not carry `externalId`
is not correlated and leaves a duplicate user behind; Groups have no PUT."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson
from scim2_server.errors import MethodNotAllowedException
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse

from vendors.simulators.base import ASGIApp, Simulator
from vendors.simulators.console import Console
from vendors.simulators.delinea_rest import DelineaConsole, UsersApi
from vendors.simulators.delinea_token import ALL_SCOPES, ApiClient, TokenIssuer
from vendors.simulators.scim_surface import ScimConsole, ScimSurface
from vendors.simulators.seed import demo_data, demo_secret

SCIM_PREFIX = "/scim"
MAX_COUNT = 100


@dataclass(frozen=True)
class DelineaSimSettings:
    seed: str
    scim_token: str
    client_id: str
    client_secret: str
    users: int = 5
    patch_status: int = 204
    #: Users seeded into the REST store (separate from the SCIM store's `users`).
    rest_users: int = 5
    client_scopes: tuple[str, ...] = ALL_SCOPES
    #: Further API clients (e.g. a read-only one) beside the demo client.
    extra_clients: tuple[ApiClient, ...] = ()
    token_lifetime: float = 300.0
    #: REST requests per second and burst per API client before 429 (None: unlimited), measured on `clock`.
    rate: float | None = 500.0
    burst: int = 1000
    #: Seconds for token expiry and the rate limit; tests pass a fake clock to expire tokens without sleeping.
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)


class DelineaScimSurface(ScimSurface):
    def __init__(self, token: str, patch_status: int) -> None:
        super().__init__(token)
        self.patch_status = patch_status

    async def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        method = request.method.upper()
        parts = [part for part in request.path.split("/") if part]
        if method == "GET" and "count" in request.query:
            request.query = {**request.query, "count": str(min(_int(request.query["count"]), MAX_COUNT))}
        if parts[:1] == ["Groups"] and len(parts) == 2 and method == "PUT":
            raise MethodNotAllowedException(allowed=("GET", "PATCH", "DELETE"), detail="use PATCH to change groups")
        duplicate = None
        updates_user = parts[:1] == ["Users"] and len(parts) == 2 and method in ("PUT", "PATCH")
        if updates_user and not _carries_external_id(method, request.body):
            duplicate = await self.handler.storage.get(self.resource_type("User"), parts[1])
        response = await super().dispatch_request(request)
        if duplicate is not None and response.status < 300:
            self._leave_duplicate(duplicate)
        if method == "PATCH" and response.status == HTTPStatus.OK and self.patch_status == 204:
            return ScimResponse(HTTPStatus.NO_CONTENT, None, {})
        if method == "PATCH" and response.status == HTTPStatus.NO_CONTENT and self.patch_status == 200:
            # scim2-server answers a PATCH with 204; the platform versions that answer 200 send the resource.
            read = ScimRequest(method="GET", base_url=request.base_url, path=request.path, headers=request.headers)
            return await super().dispatch_request(read)
        return response

    def _leave_duplicate(self, original: Any) -> None:
        """What Delinea does with an uncorrelated update: the old record stays as a second user."""
        copy = original.model_copy(deep=True)
        copy.id = self.memory.generate_id(self.resource_type("User"), copy)
        self.memory._resources.setdefault("User", {})[copy.id] = copy


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return MAX_COUNT


def _carries_external_id(method: str, body: bytes) -> bool:
    try:
        document = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return True  # malformed: scim2-server answers 400, nothing to duplicate
    if not isinstance(document, dict):
        return True
    if method == "PUT":
        return bool(document.get("externalId"))
    for operation in document.get("Operations") or []:
        if not isinstance(operation, dict):
            continue
        path, value = str(operation.get("path") or ""), operation.get("value")
        if path.lower() == "externalid" or (not path and isinstance(value, dict) and "externalId" in value):
            return True
    return False


class DelineaSimulator:
    def demo_settings(self, seed: str) -> DelineaSimSettings:
        return DelineaSimSettings(
            seed=seed,
            scim_token=demo_secret("delinea", seed, "scim"),
            client_id=f"{seed}-gateway",
            client_secret=demo_secret("delinea", seed, "client-secret"),
        )

    def create_app(self, settings: DelineaSimSettings) -> Simulator:
        surface = DelineaScimSurface(settings.scim_token, settings.patch_status)
        surface.seed(demo_data(settings.seed, settings.users))
        clients = [ApiClient(settings.client_id, settings.client_secret, settings.client_scopes)]
        issuer = TokenIssuer([*clients, *settings.extra_clients], settings.token_lifetime, settings.clock)
        rest = UsersApi(issuer, settings.scim_token, settings.rate, settings.burst, settings.clock)
        seed_rest(rest, settings.seed, settings.rest_users)

        def state() -> dict[str, Any]:
            return {"scim": surface.state(), "rest": rest.state(), "tokens": issuer.state()}

        mounts: list[tuple[str, ASGIApp]] = [(SCIM_PREFIX, surface), ("/api", rest), ("/identity", issuer)]
        consoles: dict[str, Console] = {"rest": DelineaConsole(rest), "scim": ScimConsole(surface)}
        simulator = Simulator("delinea", mounts, state=state, consoles=consoles)
        # In-process handles for tests (expire or revoke tokens, seed users); not part of Delinea.
        simulator.rest, simulator.issuer = rest, issuer  # type: ignore[attr-defined]
        return simulator

    def scim_base_path(self, settings: DelineaSimSettings) -> str:
        return SCIM_PREFIX + "/v2"

    def demo_credentials(self, settings: DelineaSimSettings) -> dict[str, str]:
        return {
            "scim_token": settings.scim_token,
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
        }


def seed_rest(rest: UsersApi, seed: str, count: int) -> None:
    """`count` demo people in the REST store; userNames stay unique past the demo name pool."""
    taken: set[str] = set()
    for index, person in enumerate(demo_data(seed, count).users):
        user_name = person["userName"]
        if user_name in taken:
            local, _, domain = user_name.partition("@")
            user_name = f"{local}.{index + 1}@{domain}"
        taken.add(user_name)
        emails = [{"value": user_name, "type": "work", "primary": True}]
        rest.add({**person, "userName": user_name, "emails": emails, "roles": ["User"]})
