"""The `scim-gateway` command: serve, check-config, hash-token, db, simulate, demo."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from gateway.inbound.auth import hash_token
from gateway.secrets import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scim-gateway", description="One SCIM 2.0 face for every SaaS app.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the gateway for a config file")
    serve.add_argument("--config", required=True, help="YAML configuration file")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--log-level", default="INFO")
    serve.add_argument(
        "--keep-alive",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long an idle client connection stays open (server.keep_alive, default 75: above a balancer's 60)",
    )
    serve.add_argument(
        "--head-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time a client has to send a request head (server.head_timeout, default 10)",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time a client has to send a request body after its head (server.body_timeout, default 30)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=None,
        metavar="N",
        help="open client connections at most (server.max_connections, default 1024)",
    )
    serve.add_argument(
        "--drain-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="on SIGTERM, how long requests in flight may run before a 503 (server.drain_timeout, default: "
        "the longest app deadline + 1)",
    )
    serve.set_defaults(func=_serve)

    check = commands.add_parser("check-config", help="validate a config file without serving")
    check.add_argument("config")
    check.set_defaults(func=_check_config)

    hasher = commands.add_parser("hash-token", help="print the SHA-256 to store for an inbound token")
    hasher.add_argument("--generate", action="store_true", help="generate a new random token and print both")
    hasher.set_defaults(func=_hash_token)

    database = commands.add_parser("db", help="the directory's database: schema upgrade, encryption keys")
    db_commands = database.add_subparsers(required=True, metavar="DB_COMMAND")
    upgrade = db_commands.add_parser("upgrade", help="bring the directory schema up to date")
    upgrade.add_argument("--config", required=True, help="YAML configuration file (its directory section)")
    upgrade.set_defaults(func=_db_upgrade)
    generate = db_commands.add_parser("generate-key", help="print a new random directory key (32 bytes, base64)")
    generate.set_defaults(func=_db_generate_key)

    simulate = commands.add_parser("simulate", help="run one vendor simulator")
    simulate.add_argument("vendor")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=0)
    simulate.add_argument("--seed", default="acme", help="seed for the simulator's demo data")
    simulate.set_defaults(func=_simulate)

    demo = commands.add_parser("demo", help="run every simulator and the gateway with config/demo.yaml")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.set_defaults(func=_demo)
    return parser


def _load(path: str):
    from gateway.config import load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return None


def _check_config(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    apps = sum(len(tenant.apps) for tenant in config.tenants.values())
    print(f"ok: {len(config.tenants)} tenants, {apps} apps")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from gateway.app import create_app
    from gateway.inbound.serving import gateway_options, raise_open_files_limit, uvicorn_config
    from gateway.logs import configure_logging

    configure_logging(args.log_level)
    config = _load(args.config)
    if config is None:
        return 1
    import uvicorn

    given = {
        "keep_alive": args.keep_alive,
        "head_timeout": args.head_timeout,
        "body_timeout": args.body_timeout,
        "max_connections": args.max_connections,
        "drain_timeout": args.drain_timeout,
    }
    overrides = {key: value for key, value in given.items() if value is not None}
    if overrides:
        from gateway.config import ServerConfig

        try:
            chosen = ServerConfig.model_validate({**config.server.model_dump(), **overrides})
        except ValueError as exc:
            print(f"invalid option: {exc}", file=sys.stderr)
            return 2
        config = config.model_copy(update={"server": chosen})
    raise_open_files_limit()
    options = gateway_options(config)
    settings = uvicorn_config(create_app(config), host=args.host, port=args.port, loop="uvloop", **options)
    uvicorn.Server(settings).run()
    return 0


def _hash_token(args: argparse.Namespace) -> int:
    if args.generate:
        token = secrets.token_urlsafe(32)
        print(f"token:  {token}\nsha256: {hash_token(token)}")
        return 0
    token = sys.stdin.readline().strip() if not sys.stdin.isatty() else getpass.getpass("token: ")
    if not token:
        print("no token given", file=sys.stderr)
        return 1
    print(hash_token(token))
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.directory.errors import DirectoryError
    from gateway.directory.migrate import upgrade

    config = _load(args.config)
    if config is None:
        return 1
    if config.directory is None:
        print(f"config error: {args.config} has no directory section", file=sys.stderr)
        return 1
    try:
        revision = asyncio.run(upgrade(config.directory.url.get_secret_value()))
    except DirectoryError as exc:
        print(f"directory error: {exc}", file=sys.stderr)
        return 1
    print(f"ok: the directory schema is at revision {revision}")
    return 0


def _db_generate_key(args: argparse.Namespace) -> int:
    from gateway.directory.keys import generate_key

    print(generate_key())
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from gateway.demo import run_simulator

    return _run(run_simulator(args.vendor, args.host, args.port, args.seed))


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo
    from gateway.logs import configure_logging

    configure_logging("INFO")  # the same JSON lines as `serve`, so the demo shows what production logs
    return _run(run_demo(args.host, args.port))


def _run(coroutine) -> int:
    try:
        import uvloop

        return uvloop.run(coroutine)
    except KeyboardInterrupt:
        return 0
