"""The Delinea simulator as its own process, for the scale figures (benchmarks/scale.py).

The simulator (vendors/simulators/delinea.py) with `--users` REST users, no
REST rate limit unless `--rate` sets one (the scale figures measure the gateway,
not Delinea's 429s; benchmarks/reconcile.py sets one), and
one benchmark-only route: `POST /_bench/revoke` forgets every issued token,
so the gateway's next calls all get 401 and must refresh (what a key
rotation does). Token grants are counted in `GET /_sim/state`
(`tokens.issued`).

Run alone: `python -m benchmarks.scale_sim --port 9003 --users 10000`
(secrets from BENCH_DELINEA_CLIENT_ID / BENCH_DELINEA_CLIENT_SECRET).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any

import uvicorn

from benchmarks.processes import LOOPBACK, require_loopback
from gateway.inbound.serving import uvicorn_config
from vendors.simulators.delinea import DelineaSimulator


def create_app(users: int, client_id: str, client_secret: str, rate: float | None = None, burst: int = 1000) -> Any:
    spec = DelineaSimulator()
    settings = dataclasses.replace(
        spec.demo_settings("bench"),
        client_id=client_id,
        client_secret=client_secret,
        users=1,
        rest_users=users,
        rate=rate,
        burst=burst,
    )
    simulator = spec.create_app(settings)
    issuer = simulator.issuer  # type: ignore[attr-defined]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/_bench/revoke" and scope["method"] == "POST":
            issuer.revoke_all()
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await simulator(scope, receive, send)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Delinea simulator for the scale figures")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--rate", type=float, default=None, help="REST requests/s before 429 (default: unlimited)")
    parser.add_argument("--burst", type=int, default=1000, help="REST requests at once before 429")
    args = parser.parse_args(argv)
    secrets = os.environ["BENCH_DELINEA_CLIENT_ID"], os.environ["BENCH_DELINEA_CLIENT_SECRET"]
    app = create_app(args.users, *secrets, rate=args.rate, burst=args.burst)
    uvicorn.Server(uvicorn_config(app, host=require_loopback(args.host), port=args.port, loop="uvloop")).run()


if __name__ == "__main__":
    main()
