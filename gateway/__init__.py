"""scim-gateway: one SCIM 2.0 face for every SaaS app."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def gateway_version() -> str:
    """The installed distribution's version ("0+unknown" when run from a tree that is not installed)."""
    try:
        return version("scim-gateway")
    except PackageNotFoundError:
        return "0+unknown"
