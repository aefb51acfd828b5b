"""The vendor's admin console on every simulator: `/_sim/users` (vendors/simulators/base.py routes it here).

An admin creating, changing or removing an account in the vendor's own console, bypassing every API the
gateway uses: `POST /_sim/users` (create), `PATCH /_sim/users/{id}` (change the fields given), `DELETE
/_sim/users/{id}` (remove), in the vendor's own user representation. Each simulator maps this onto its
stores with one `Console` per store (`?surface=NAME`; the first is the default): a SCIM User for the SCIM
vendors (scim_surface.ScimConsole), Orca's {email, name, role, status} (orca_rest.OrcaConsole), Delinea's
REST user (delinea_rest.DelineaConsole). A vendor without user accounts (Darktrace) has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import parse_qs

import orjson


class ConsoleError(Exception):
    """A console action the vendor's console would refuse: `status` and the vendor's words."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Console(Protocol):
    """An admin in the vendor's own console, acting on one of its user stores. Bodies are the vendor's user
    representation; each method returns the user as the vendor now holds it or raises ConsoleError."""

    def create(self, body: Any) -> Any: ...

    def change(self, user_id: str, body: Any) -> Any: ...

    def remove(self, user_id: str) -> None: ...


def act(
    vendor: str, consoles: Mapping[str, Console], method: str, path: str, query: bytes, body: bytes
) -> tuple[int, Any]:
    """The status and JSON answer of one `/_sim/users[/{id}]` request (None: no body)."""
    user_id = path.removeprefix("/_sim/users").strip("/") or None
    surface = parse_qs(query.decode()).get("surface", [None])[0]
    console = consoles.get(surface) if surface else next(iter(consoles.values()), None)
    try:
        if console is None:
            known = ", ".join(consoles) or f"none: {vendor} has no user accounts"
            raise ConsoleError(404, f"no such user store on the {vendor} simulator (stores: {known})")
        if method == "POST" and user_id is None:
            return 201, console.create(_json(body))
        if method == "PATCH" and user_id is not None:
            return 200, console.change(user_id, _json(body))
        if method == "DELETE" and user_id is not None:
            console.remove(user_id)
            return 204, None
        raise ConsoleError(405, "POST /_sim/users, PATCH or DELETE /_sim/users/{id}")
    except ConsoleError as exc:
        return exc.status, {"detail": exc.detail}


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ConsoleError(400, "the body is not JSON") from None
