"""Vendor kind (the `vendor:` key of an app in the config) -> connector class.

Adding a vendor is one line here plus its module. Imports are lazy so that
loading the registry does not import every vendor's dependencies.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vendors.base import Connector

_CONNECTORS: dict[str, str] = {
    "orca-scim": "vendors.orca_scim:OrcaScimConnector",
    "delinea-scim": "vendors.delinea_scim:DelineaScimConnector",
    "invicti": "vendors.invicti:InvictiConnector",
    "spekit": "vendors.spekit:SpekitConnector",
    "orca": "vendors.orca:OrcaConnector",
    "delinea": "vendors.delinea:DelineaConnector",
    "darktrace": "vendors.darktrace:DarktraceConnector",
}


def vendor_kinds() -> list[str]:
    return sorted(_CONNECTORS)


def connector_class(kind: object) -> type[Connector]:
    """The connector class for a vendor kind; raises KeyError with a readable message."""
    target = _CONNECTORS.get(kind) if isinstance(kind, str) else None
    if target is None:
        raise KeyError(f"unknown vendor {kind!r}; expected one of: {', '.join(vendor_kinds())}")
    module, _, name = target.partition(":")
    cls: type[Connector] = getattr(import_module(module), name)
    return cls
