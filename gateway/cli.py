"""The `scim-gateway` command: serve, check-config, hash-token, db, reconcile, work, simulate, demo, people,
review, guard, dry-run."""

from __future__ import annotations

import argparse
import errno
import getpass
import os
import secrets
import socket
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from gateway import gateway_version
from gateway.config import DEFAULT_METRICS_PORT, GatewayConfig
from gateway.inbound.auth import hash_token
from gateway.operator_cli import add_commands as add_operator_commands
from gateway.secrets import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand each, every option with its help text."""
    from vendors.registry import simulator_names

    parser = argparse.ArgumentParser(prog="scim-gateway", description="One SCIM 2.0 face for every SaaS app.")
    parser.add_argument("--version", action="version", version=f"scim-gateway {gateway_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the gateway for a config file")
    serve.add_argument("--config", required=True, metavar="FILE", help="YAML configuration file")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0: every interface)")
    serve.add_argument("--port", type=int, default=8080, help="port for SCIM and the probes (default 8080)")
    serve.add_argument(
        "--log-level", default="INFO", choices=_LEVELS, type=str.upper, help="lowest level logged (default INFO)"
    )
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
    check.add_argument("config", nargs="?", metavar="FILE", help="YAML configuration file (with --demo: the demo's)")
    check.add_argument(
        "--demo",
        action="store_true",
        help="set the DEMO_* variables as `scim-gateway demo` does, to check its config without running it",
    )
    check.set_defaults(func=_check_config)

    hasher = commands.add_parser("hash-token", help="print the SHA-256 to store for an inbound token")
    hasher.add_argument("--generate", action="store_true", help="generate a new random token and print both")
    hasher.set_defaults(func=_hash_token)

    database = commands.add_parser("db", help="the directory's database: schema upgrade, encryption keys")
    db_commands = database.add_subparsers(required=True, metavar="DB_COMMAND", help="upgrade or generate-key")
    upgrade = db_commands.add_parser("upgrade", help="bring the directory schema up to date")
    upgrade.add_argument("--config", required=True, help="YAML configuration file (its directory section)")
    upgrade.set_defaults(func=_db_upgrade)
    generate = db_commands.add_parser("generate-key", help="print a new random directory key (32 bytes, base64)")
    generate.set_defaults(func=_db_generate_key)

    reconcile = commands.add_parser(
        "reconcile", help="compare one app's accounts at the vendor with the directory, now"
    )
    where = reconcile.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", metavar="FILE", help="run in this process on this YAML configuration file")
    where.add_argument("--url", help="start the run on a running gateway (its admin API) and follow it")
    reconcile.add_argument("--token", help="operator token for --url (default: $SCIM_GATEWAY_OPERATOR_TOKEN)")
    reconcile.add_argument("--tenant", required=True, help="the tenant")
    reconcile.add_argument("--app", required=True, help="the app")
    reconcile.add_argument("--show", type=int, default=20, metavar="N", help="findings listed (default 20)")
    reconcile.set_defaults(func=_reconcile)

    from gateway.backed.manual.cli import add_commands as add_work_commands

    add_work_commands(commands)

    vendors = ", ".join(simulator_names())
    simulate = commands.add_parser(
        "simulate", help=f"run one vendor simulator ({vendors})", description=f"Run one vendor simulator: {vendors}."
    )
    simulate.add_argument("vendor", choices=simulator_names(), metavar="VENDOR", help=f"one of: {vendors}")
    simulate.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    simulate.add_argument("--port", type=int, default=0, help="port to listen on (default 0: a free port, printed)")
    simulate.add_argument("--seed", default="acme", help="seed for the simulator's demo data (default acme)")
    simulate.set_defaults(func=_simulate)

    demo = commands.add_parser("demo", help="run every simulator and the gateway with config/demo.yaml")
    demo.add_argument("--host", default="127.0.0.1", help="address the gateway listens on (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8080, help="the gateway's port (default 8080)")
    demo.add_argument(
        "--metrics-port",
        type=int,
        default=DEFAULT_METRICS_PORT,
        help=f"port of /metrics, on 127.0.0.1 (default {DEFAULT_METRICS_PORT}; 0: a free port)",
    )
    demo.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the demo keeps its directory database and keys (default $XDG_DATA_HOME/scim-gateway/demo)",
    )
    demo.set_defaults(func=_demo)

    from gateway.admin.cli import add_commands

    add_commands(commands)  # people find|offboard, review: gateway/admin/cli.py
    add_operator_commands(commands, load_checked)  # guard status|approve|reject|reset, dry-run list|clear
    return parser


_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def load_checked(path: str) -> GatewayConfig | None:
    """The config with every app's vendor settings checked too; None (the error printed) when invalid."""
    from gateway.apps import vendor_apps
    from gateway.config import load_config

    try:
        config = load_config(path)
        vendor_apps(config)
        return config
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        if "DEMO_" in exc.message:
            print("(the demo's config: scim-gateway check-config --demo)", file=sys.stderr)
        return None


def _check_config(args: argparse.Namespace) -> int:
    if args.demo:
        from gateway.demo import demo_config_path, placeholder_environment

        # The directory's keys are made up for the check, in a scratch directory: the demo's own are left alone.
        os.environ.update(placeholder_environment())
        args.config = args.config or demo_config_path()
    if args.config is None:
        print("check-config: give a config FILE (or --demo)", file=sys.stderr)
        return 2
    config = load_checked(args.config)
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
    config = load_checked(args.config)
    if config is None:
        return 1
    metrics = config.observability
    try:
        sock = _listen(args.host, args.port, "--port")
        if metrics.metrics_port:  # the app binds it at start-up: checked here to fail before any work
            _listen(metrics.metrics_host, metrics.metrics_port, "observability.metrics_port").close()
    except PortInUse as exc:
        print(exc, file=sys.stderr)
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
    # log_config=None: uvicorn's records go through the JSON logging configured above.
    app = create_app(config)
    settings = uvicorn_config(app, host=args.host, port=args.port, loop="uvloop", log_config=None, **options)
    uvicorn.Server(settings).run(sockets=[sock])
    return 0


class PortInUse(Exception):
    """A port the command needs is taken; the message is the one line to print."""


def _listen(host: str, port: int, option: str) -> socket.socket:
    """A socket listening on host:port, or PortInUse naming the port and the option that sets it."""
    from gateway.inbound.serving import bind_socket

    try:
        return bind_socket(host, port)
    except OSError as exc:
        reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be opened ({exc.strerror})"
        raise PortInUse(f"scim-gateway: port {port} on {host} {reason}; choose another with {option}") from None


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

    config = load_checked(args.config)
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


def _reconcile(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    import structlog

    from gateway.logs import configure_logging
    from gateway.reconcile.cli import reconcile_command

    configure_logging("WARNING")  # stdout is the summary table: only warnings and errors join it
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if args.url is not None:
        from gateway.admin.cli import TOKEN_VARIABLE
        from gateway.admin.remote import RemoteAdmin
        from gateway.reconcile.remote import remote_reconcile

        token = args.token or os.environ.get(TOKEN_VARIABLE)
        if not token:
            print(f"reconcile: --url needs an operator token (--token or ${TOKEN_VARIABLE})", file=sys.stderr)
            return 2
        admin = RemoteAdmin(args.url, token, args.tenant)
        return remote_reconcile(admin, args.app, args.show, sys.stdout, sys.stderr)
    config = load_checked(args.config)
    if config is None:
        return 1
    return asyncio.run(reconcile_command(config, args.tenant, args.app, args.show, sys.stdout, sys.stderr))


def _simulate(args: argparse.Namespace) -> int:
    from gateway.demo import run_simulator

    return _run(run_simulator(args.vendor, args.host, args.port, args.seed))


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import default_data_dir, run_demo
    from gateway.logs import configure_logging

    try:  # checked before anything starts; the demo binds them itself a moment later
        _listen(args.host, args.port, "--port").close()
        if args.metrics_port:
            _listen("127.0.0.1", args.metrics_port, "--metrics-port").close()
    except PortInUse as exc:
        print(exc, file=sys.stderr)
        return 1
    configure_logging("INFO")  # the same JSON lines as `serve`, so the demo shows what production logs
    try:
        data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
        return _run(run_demo(args.host, args.port, args.metrics_port, data_dir))
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 1


def _run(coroutine: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop

        code: int = uvloop.run(coroutine)
        return code
    except KeyboardInterrupt:
        return 0
