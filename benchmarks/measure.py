"""One measurement: warm up, then load a server while reading its CPU time and every core's busy share."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.load import LoadResult, Target, run_load
from benchmarks.processes import Server, busy_percent, core_times
from benchmarks.scenarios import Scenario


@dataclass(frozen=True)
class Plan:
    """How to drive load: generator, seconds of warm-up and of measurement, core of the generator."""

    tool: str
    duration: float
    warmup: float
    load_core: int | None


@dataclass(frozen=True)
class Measurement:
    scenario: str
    #: The app the scenario ran against (invicti: pass-through; orca: translated).
    app: str
    connections: int
    server: str
    load: LoadResult
    #: CPU time (user + system) the measured server spent per answered request.
    cpu_us_per_request: float | None
    #: The measured server's CPU time over the wall time of the run (100 = one core saturated).
    server_cpu_percent: float
    core_busy_percent: dict[int, float]

    def as_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "app": self.app,
            "connections": self.connections,
            "server": self.server,
            **self.load.as_dict(),
            "cpu_us_per_request": self.cpu_us_per_request,
            "server_cpu_percent": self.server_cpu_percent,
            "core_busy_percent": {str(core): pct for core, pct in self.core_busy_percent.items()},
        }


def measure(plan: Plan, scenario: Scenario, server: Server, target: Target, connections: int) -> Measurement:
    """Warm up (its numbers are discarded), then one measured run; raises RuntimeError if the generator fails."""
    if plan.warmup > 0:
        run_load(plan.tool, scenario, target, connections, plan.warmup, plan.load_core)
    cpu_before, cores_before = server.cpu_seconds(), core_times()
    result = run_load(plan.tool, scenario, target, connections, plan.duration, plan.load_core)
    cpu = server.cpu_seconds() - cpu_before
    busy = busy_percent(cores_before, core_times())
    return Measurement(
        scenario=scenario.name,
        app=scenario.app,
        connections=connections,
        server=server.name,
        load=result,
        cpu_us_per_request=round(cpu * 1e6 / result.requests, 1) if result.requests else None,
        server_cpu_percent=round(100 * cpu / result.seconds, 1) if result.seconds else 0.0,
        core_busy_percent=busy,
    )
