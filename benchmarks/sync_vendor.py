"""One vendor simulator as its own process, with a strict rate limit, for the sync benchmark (benchmarks/sync.py).

The simulators of vendors/simulators/, with their page caps and other traps,
holding a few seeded users (the sync creates the rest). The limit is the
vendor's: Delinea REST's own per-API-client limit (429 without Retry-After,
as Delinea), or for the others the simulator's account-wide one
(vendors/simulators/base.py `RateLimit`), with or without Retry-After.
Credentials are the simulators' demo credentials for seed `bench`
(deterministic: the benchmark computes the same ones for the gateway).

Run alone: `python -m benchmarks.sync_vendor --vendor orca --port 9003 --rate 40`
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from typing import Any

import uvicorn

from benchmarks.processes import LOOPBACK, require_loopback
from gateway.inbound.serving import uvicorn_config
from vendors.simulators.base import RateLimit, Simulator
from vendors.simulators.delinea import DelineaSimulator
from vendors.simulators.invicti import InvictiSimulator
from vendors.simulators.orca import OrcaSimulator

SEED = "bench"
SIMULATORS: dict[str, Any] = {"invicti": InvictiSimulator(), "orca": OrcaSimulator(), "delinea": DelineaSimulator()}


def settings(vendor: str, rate: float | None, burst: int) -> Any:
    """The simulator's demo settings for seed `bench`; Delinea's REST limit set to `rate`/`burst`."""
    base = SIMULATORS[vendor].demo_settings(SEED)
    if vendor == "delinea":
        return dataclasses.replace(base, rate=rate, burst=burst)
    return base


def create_app(vendor: str, rate: float | None, burst: int, retry_after: bool) -> Simulator:
    """The simulator of `vendor`, refusing (429) what exceeds `rate` requests/s (bursts of `burst`)."""
    simulator: Simulator = SIMULATORS[vendor].create_app(settings(vendor, rate, burst))
    if vendor != "delinea" and rate is not None:
        simulator.limit = RateLimit(rate, burst, retry_after=retry_after)
    return simulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A vendor simulator with a strict rate limit, for benchmarks.sync")
    parser.add_argument("--vendor", choices=sorted(SIMULATORS), required=True)
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=None, help="requests/s before 429 (default: unlimited)")
    parser.add_argument("--burst", type=int, default=0, help="bucket size (default: one second of --rate)")
    parser.add_argument("--retry-after", action="store_true", help="429s carry Retry-After (never for Delinea)")
    args = parser.parse_args(argv)
    burst = args.burst or max(1, math.ceil(args.rate or 1))
    app = create_app(args.vendor, args.rate, burst, args.retry_after)
    uvicorn.Server(uvicorn_config(app, host=require_loopback(args.host), port=args.port, loop="uvloop")).run()


if __name__ == "__main__":
    main()
