"""Faithful simulators of each vendor, for the tests, the demo and the benchmarks.

Each follows the vendor's guide, traps included, and adds a `/_sim/` control
API (vendors/simulators/base.py). `SIMULATORS` maps the simulator name used
by `scim-gateway simulate NAME` to its spec.
"""

from __future__ import annotations

from vendors.simulators.base import SimulatorSpec
from vendors.simulators.darktrace import DarktraceSimulator
from vendors.simulators.delinea import DelineaSimulator
from vendors.simulators.invicti import InvictiSimulator
from vendors.simulators.orca import OrcaSimulator
from vendors.simulators.spekit import SpekitSimulator

SIMULATORS: dict[str, SimulatorSpec] = {
    "orca": OrcaSimulator(),
    "delinea": DelineaSimulator(),
    "invicti": InvictiSimulator(),
    "spekit": SpekitSimulator(),
    "darktrace": DarktraceSimulator(),
}
