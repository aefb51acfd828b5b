"""Faithful simulators of each vendor, for the tests, the demo and the benchmarks.

Each follows the vendor's guide, traps included, and adds a `/_sim/` control
API (vendors/simulators/base.py). `SIMULATORS` maps the simulator name used
by `scim-gateway simulate NAME` to its spec; it is derived from the one
vendor list, vendors/registry.py.
"""

from __future__ import annotations

from vendors.registry import simulator, simulator_names
from vendors.simulators.base import SimulatorSpec

SIMULATORS: dict[str, SimulatorSpec] = {name: simulator(name) for name in simulator_names()}
