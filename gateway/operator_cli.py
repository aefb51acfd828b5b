"""`scim-gateway guard ...` and `scim-gateway dry-run list|clear`: the operator's side of issue 19's guards.

They run in-process on a config file, against the directory's database that every replica shares
(as `db upgrade` does), through the same service functions as the admin API, and print JSON. A
decision is audited like the admin API's, with the operator `cli:<user>`.

Exit status: 0 done; 1 a config, directory or refusal error (printed on stderr); 2 a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from scim2_models import SCIMException

from gateway.config import GatewayConfig
from gateway.secrets import ConfigError

Loader = Callable[[str], GatewayConfig | None]


def add_commands(commands: Any, load: Loader) -> None:
    """Register `guard` and `dry-run` on the main parser's subcommands; `load` reads and checks a config."""
    guard = commands.add_parser("guard", help="the deprovisioning guard of an app: status, approve, reject, reset")
    actions = guard.add_subparsers(required=True, metavar="ACTION", help="status, approve, reject or reset")
    for action, text in (
        ("status", "the held batch, the counts and the held entries (ids and operations)"),
        ("approve", "approve the held batch: the IdP's retries go through"),
        ("reject", "reject the held batch: the IdP's retries are refused until reset"),
        ("reset", "forget rejected entries and the window's count"),
    ):
        parser = actions.add_parser(action, help=text)
        _app_options(parser)
        if action in ("approve", "reject"):
            parser.add_argument("--batch", type=uuid.UUID, help="act only if this is still the held batch")
        parser.set_defaults(func=lambda args, action=action: _guard(args, action, load))
    dry_run = commands.add_parser("dry-run", help="what a dry-run app would have sent to its vendor")
    dry_actions = dry_run.add_subparsers(required=True, metavar="ACTION", help="list or clear")
    listing = dry_actions.add_parser("list", help="the recorded vendor calls, oldest first, as JSON")
    _app_options(listing)
    listing.add_argument("--limit", type=int, default=100, help="calls to list (default 100, at most 1000)")
    listing.add_argument("--offset", type=int, default=0, help="calls to skip (default 0)")
    listing.set_defaults(func=lambda args: _dry_run(args, load, "list"))
    clearing = dry_actions.add_parser("clear", help="delete the app's recorded calls (after review)")
    _app_options(clearing)
    clearing.set_defaults(func=lambda args: _dry_run(args, load, "clear"))


def _app_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="the gateway's YAML configuration file")
    parser.add_argument("--tenant", required=True, help="the tenant's name")
    parser.add_argument("--app", required=True, help="the app's name")


def _guard(args: argparse.Namespace, action: str, load: Loader) -> int:
    from gateway.deprovisioning import service
    from gateway.deprovisioning.gate import DeprovisionGate
    from gateway.directory.store import Directory
    from gateway.observability.audit import AuditLog

    config = load(args.config)
    if config is None:
        return 1
    app = _app_config(config, args.tenant, args.app)
    if app is None or app.guard is None:
        print(f"config error: tenants.{args.tenant}.apps.{args.app} has no guard", file=sys.stderr)
        return 1
    guard = app.guard
    actor = f"cli:{getpass.getuser()}"

    async def run(directory: Directory) -> dict[str, Any]:
        gate = DeprovisionGate(
            directory.deprovisions(args.tenant, args.app), guard, f"{args.tenant}/{args.app}", lambda verdict: None
        )
        if action == "status":
            return await service.guard_status(gate)
        audit = AuditLog(config.observability.audit.file, config.observability.audit.user_name)
        try:
            if action == "reset":
                return await service.reset(gate, audit, actor)
            return await service.decide(gate, audit, actor, action, args.batch)
        finally:
            audit.close()

    return _with_directory(config, run)


def _dry_run(args: argparse.Namespace, load: Loader, action: str) -> int:
    from gateway.directory.store import Directory
    from gateway.dryrun.service import recorded_calls

    config = load(args.config)
    if config is None:
        return 1
    app = _app_config(config, args.tenant, args.app)
    if app is None or config.directory is None:
        print(f"config error: no app tenants.{args.tenant}.apps.{args.app}, or no directory", file=sys.stderr)
        return 1

    async def run(directory: Directory) -> dict[str, Any]:
        dry_runs = directory.dry_runs(args.tenant, args.app)
        if action == "clear":
            return {"cleared": await dry_runs.clear()}
        return await recorded_calls(dry_runs, app.dry_run, args.limit, args.offset)

    return _with_directory(config, run)


def _app_config(config: GatewayConfig, tenant: str, app: str) -> Any:
    found = config.tenants.get(tenant)
    return None if found is None else found.apps.get(app)


def _with_directory(config: GatewayConfig, run: Callable[[Any], Awaitable[dict[str, Any]]]) -> int:
    from gateway.directory.errors import DirectoryError
    from gateway.directory.store import open_directory

    async def main() -> dict[str, Any]:
        assert config.directory is not None  # the config refuses a guard or dry_run without it
        directory = await open_directory(config.directory)
        try:
            return await run(directory)
        finally:
            await directory.close()

    try:
        result = asyncio.run(main())
    except (DirectoryError, ConfigError) as exc:
        print(f"directory error: {exc}", file=sys.stderr)
        return 1
    except SCIMException as exc:
        print(f"refused: {exc.detail}", file=sys.stderr)
        return 1
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0
