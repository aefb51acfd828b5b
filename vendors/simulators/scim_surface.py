"""A vendor's SCIM 2.0 surface, served by scim2-server over an in-memory store.

scim2-server is a conformant SCIM server (RFC 7643/7644); each vendor's
simulator subclasses `ScimSurface` to add what the vendor's guide says it does
differently (page caps, 204 answers, missing endpoints, duplicate-user traps)
by overriding `dispatch_request`. Authentication is the vendor's SCIM bearer
token; tokens that belong to another of the vendor's surfaces (a REST token)
are refused with the detail the vendor's admin would need.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Mapping
from typing import Any

from scim2_models import (
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Patch,
    Resource,
    ResourceType,
    SCIMException,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    UnauthorizedException,
)
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.memory import AsyncInMemoryStorage, InMemoryStorage
from scim2_server.requests import ScimRequest
from scim2_server.utils import load_default_resource_types, load_default_schemas

from vendors.simulators.base import Receive, Scope, Send
from vendors.simulators.console import ConsoleError
from vendors.simulators.seed import DemoData

_CONFIG = ServiceProviderConfig(
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=1000),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=False),
)


@functools.cache
def vendor_provider() -> ScimProvider:
    """RFC 7643's User (with the Enterprise extension) and Group, no Bulk, no ETag.

    Built once: generating its models takes a noticeable part of a second, and every surface can share them.
    """
    return ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=_CONFIG
    )


class ScimSurface(ASGIApplication):
    """The SCIM endpoints of one vendor account, under `/v2` of wherever the simulator mounts it."""

    def __init__(self, token: str, rejected_tokens: Mapping[str, str] | None = None) -> None:
        self.memory = InMemoryStorage()
        super().__init__(AsyncInMemoryStorage(self.memory), vendor_provider())
        self.token = token
        self.rejected_tokens = dict(rejected_tokens or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        # scim2-server annotates the ASGI scope and messages as dict; every ASGI server passes one.
        await super().__call__(scope, receive, send)  # type: ignore[arg-type]

    def check_auth(self, request: ScimRequest) -> None:
        scheme, _, credential = (request.header("Authorization") or "").partition(" ")
        credential = credential.strip()
        if credential in self.rejected_tokens:
            raise UnauthorizedException(detail=self.rejected_tokens[credential])
        if scheme.lower() != "bearer" or not hmac.compare_digest(credential.encode(), self.token.encode()):
            raise UnauthorizedException(detail="invalid SCIM bearer token")

    def resource_type(self, name: str) -> ResourceType:
        return next(rt for rt in self.provider.resource_types if rt.name == name)

    def model(self, name: str) -> type[Resource[Any]]:
        return self.service.get_model(self.resource_type(name))

    def seed(self, data: DemoData) -> None:
        """Store the demo users, then groups whose members name them by userName."""
        user_type, group_type = self.resource_type("User"), self.resource_type("Group")
        ids: dict[str, str] = {}
        for user in data.users:
            model = self.model("User").model_validate(user, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
            created = self.memory.create(user_type, model)
            ids[user["userName"]] = str(created.id)
        for group in data.groups:
            members = [{"value": ids[name], "type": "User"} for name in group["members"]]
            body = {"displayName": group["displayName"], "members": members}
            model = self.model("Group").model_validate(body, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
            self.memory.create(group_type, model)

    def stored(self, name: str) -> list[Resource[Any]]:
        """Every stored resource of one type (a snapshot, safe to read)."""
        return [r for r in self.memory.resources if r.meta is not None and r.meta.resource_type == name]

    def state(self) -> dict[str, Any]:
        """The store as JSON, for `/_sim/state`."""
        dump = Context.RESOURCE_QUERY_RESPONSE
        return {
            kind: [resource.model_dump(scim_ctx=dump) for resource in self.stored(kind.rstrip("s"))]
            for kind in ("Users", "Groups")
        }


class ScimConsole:
    """The vendor's admin console over a SCIM surface's store: bodies and answers are SCIM Users.

    A change sets the attributes the body gives (a partial User; null removes one), as an admin editing
    fields in a form does; a removal deletes the user.
    """

    def __init__(self, surface: ScimSurface) -> None:
        self.surface = surface

    def create(self, body: Any) -> Any:
        return self._store(body, None)

    def change(self, user_id: str, body: Any) -> Any:
        if not isinstance(body, dict):
            raise ConsoleError(400, "expected a SCIM User object of the attributes to change")
        current = self._current(user_id)
        merged = {**current, **body, "id": user_id}
        return self._store({key: value for key, value in merged.items() if value is not None}, user_id)

    def remove(self, user_id: str) -> None:
        self._current(user_id)
        self.surface.memory.delete(self.surface.resource_type("User"), user_id)

    def _current(self, user_id: str) -> dict[str, Any]:
        try:
            user = self.surface.memory.get(self.surface.resource_type("User"), user_id)
        except SCIMException:
            raise ConsoleError(404, f"no user {user_id}") from None
        dumped: dict[str, Any] = user.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        dumped.pop("meta", None)
        return dumped

    def _store(self, body: Any, user_id: str | None) -> Any:
        user_type = self.surface.resource_type("User")
        context = Context.RESOURCE_CREATION_REQUEST if user_id is None else Context.RESOURCE_REPLACEMENT_REQUEST
        try:
            model = self.surface.model("User").model_validate(body, scim_ctx=context)
            if user_id is None:
                stored = self.surface.memory.create(user_type, model)
            else:
                model.id = user_id
                stored = self.surface.memory.update(user_type, model)
        except SCIMException as exc:
            raise ConsoleError(exc.status, str(exc.detail)) from None
        except ValueError as exc:  # pydantic's ValidationError
            raise ConsoleError(400, f"not a valid SCIM User: {exc}") from None
        return stored.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
