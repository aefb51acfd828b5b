"""Every vendor the gateway knows, in one list: its connectors, its simulator, its demo tenants.

Adding a vendor is one `Vendor` entry in `VENDORS` (README: "Adding a vendor").
From it derive the config's `vendor:` kinds (`connector_class`), the simulators
(`vendors.simulators.SIMULATORS`, `scim-gateway simulate NAME`) and the demo's
simulators (`demo_accounts`). Classes are named as "module:Class" and imported
on first use, so loading the registry imports no vendor and no simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vendors.base import Connector
    from vendors.simulators.base import SimulatorSpec


@dataclass(frozen=True)
class Vendor:
    """One vendor (named as its simulator is: `scim-gateway simulate NAME`)."""

    #: Config `vendor:` kind -> "module:Class" of the connector (one per vendor API the gateway speaks).
    connectors: Mapping[str, str]
    #: "module:Class" of the vendor's simulator (a vendors.simulators.base.SimulatorSpec).
    simulator: str
    #: Tenants the demo runs this simulator for; config/demo.yaml reads each one's DEMO_<NAME>_<TENANT>_* variables.
    demo_tenants: tuple[str, ...] = ()


VENDORS: dict[str, Vendor] = {
    "orca": Vendor(
        connectors={"orca-scim": "vendors.orca_scim:OrcaScimConnector", "orca": "vendors.orca:OrcaConnector"},
        simulator="vendors.simulators.orca:OrcaSimulator",
        demo_tenants=("acme", "globex"),
    ),
    "delinea": Vendor(
        connectors={
            "delinea-scim": "vendors.delinea_scim:DelineaScimConnector",
            "delinea": "vendors.delinea:DelineaConnector",
        },
        simulator="vendors.simulators.delinea:DelineaSimulator",
        demo_tenants=("acme",),
    ),
    "invicti": Vendor(
        connectors={"invicti": "vendors.invicti:InvictiConnector"},
        simulator="vendors.simulators.invicti:InvictiSimulator",
        demo_tenants=("acme", "globex"),
    ),
    "spekit": Vendor(
        connectors={"spekit": "vendors.spekit:SpekitConnector"},
        simulator="vendors.simulators.spekit:SpekitSimulator",
        demo_tenants=("acme", "globex"),
    ),
    "darktrace": Vendor(
        connectors={"darktrace": "vendors.darktrace:DarktraceConnector"},
        simulator="vendors.simulators.darktrace:DarktraceSimulator",
        demo_tenants=("acme",),
    ),
}


def vendor_kinds() -> list[str]:
    """Every config `vendor:` kind, sorted."""
    return sorted(kind for vendor in VENDORS.values() for kind in vendor.connectors)


def connector_class(kind: object) -> type[Connector]:
    """The connector class for a vendor kind; raises KeyError with a readable message."""
    target = _connector_targets().get(kind) if isinstance(kind, str) else None
    if target is None:
        raise KeyError(f"unknown vendor {kind!r}; expected one of: {', '.join(vendor_kinds())}")
    return _connector(target)


def simulator_names() -> list[str]:
    """The names `scim-gateway simulate` accepts, sorted."""
    return sorted(VENDORS)


def simulator(name: str) -> SimulatorSpec:
    """The named vendor's simulator spec; raises KeyError for an unknown name."""
    return _simulator(VENDORS[name].simulator)


def demo_accounts() -> list[tuple[str, str]]:
    """(simulator name, tenant) of every simulator the demo runs, in registry order."""
    return [(name, tenant) for name, vendor in VENDORS.items() for tenant in vendor.demo_tenants]


@cache
def _connector_targets() -> dict[str, str]:
    return {kind: target for vendor in VENDORS.values() for kind, target in vendor.connectors.items()}


@cache
def _connector(target: str) -> type[Connector]:
    cls: type[Connector] = _load(target)
    return cls


@cache
def _simulator(target: str) -> SimulatorSpec:
    spec: SimulatorSpec = _load(target)()
    return spec


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)
