"""`scim-gateway work list|claim|complete|reject`: a manual app's work queue from a terminal.

Against a running gateway (`--url`, operator token with scope `work` from `--token` or
SCIM_GATEWAY_OPERATOR_TOKEN; the admin API's /admin/v1/tenants/{tenant}/work) or directly on a
config (`--config FILE`: the same service in this process, on the configured directory, every
transition audited as `cli:<os user>` to the configured audit file, else stderr). Output: a table,
or the API's JSON with `--json`. Exit status: 0 done, 1 refused or could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TOKEN_VARIABLE = "SCIM_GATEWAY_OPERATOR_TOKEN"
TIMEOUT = 60.0


class WorkCallFailed(Exception):
    """The call was refused or could not be made; the message is the one line to print."""


def add_commands(commands: Any) -> None:
    """Add `work` to the main parser's subcommands."""
    work = commands.add_parser("work", help="the work queue of manual apps: list, claim, complete, reject")
    actions = work.add_subparsers(required=True, metavar="ACTION", help="list, claim, complete or reject")
    listing = actions.add_parser("list", help="work items, oldest first (open and claimed by default)")
    listing.add_argument("--app", help="only this app's items")
    listing.add_argument("--state", action="append", choices=["open", "claimed", "done", "rejected"], help="repeatable")
    listing.add_argument("--limit", type=int, default=100, help="items per page (default 100)")
    listing.add_argument("--after", metavar="ID", help="the page after this item (the previous page's `next`)")
    _target(listing)
    listing.set_defaults(func=_list)
    claim = actions.add_parser("claim", help="take an open item")
    claim.add_argument("id", help="the work item's id")
    _target(claim)
    claim.set_defaults(func=_claim)
    complete = actions.add_parser("complete", help="say an item is done at the vendor")
    complete.add_argument("id", help="the work item's id")
    complete.add_argument("--vendor-id", help="the account's id at the vendor (required to complete a create)")
    _target(complete)
    complete.set_defaults(func=_complete)
    reject = actions.add_parser("reject", help="say an item will not be done, and why")
    reject.add_argument("id", help="the work item's id")
    reject.add_argument("--reason", required=True, help="why (kept encrypted; shown to operators)")
    _target(reject)
    reject.set_defaults(func=_reject)


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", required=True, help="the tenant")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running gateway's base URL (e.g. https://scim.example.com)")
    where.add_argument("--config", metavar="FILE", help="run in this process on this config file instead")
    parser.add_argument("--token", help=f"operator token for --url (default: ${TOKEN_VARIABLE}; keeps it out of ps)")
    parser.add_argument("--json", action="store_true", help="print the JSON answer instead of a table")


def _list(args: argparse.Namespace) -> int:
    query = {"app": args.app, "state": ",".join(args.state or []) or None, "after": args.after, "limit": args.limit}
    return _run(args, "GET", "", {k: v for k, v in query.items() if v is not None}, None, _print_items)


def _claim(args: argparse.Namespace) -> int:
    return _run(args, "POST", f"/{args.id}/claim", {}, {}, _print_item)


def _complete(args: argparse.Namespace) -> int:
    body = {"vendorId": args.vendor_id} if args.vendor_id else {}
    return _run(args, "POST", f"/{args.id}/complete", {}, body, _print_item)


def _reject(args: argparse.Namespace) -> int:
    return _run(args, "POST", f"/{args.id}/reject", {}, {"reason": args.reason}, _print_item)


def _run(
    args: argparse.Namespace,
    method: str,
    path: str,
    query: dict[str, Any],
    body: dict[str, Any] | None,
    show: Any,
) -> int:
    try:
        if args.url:
            token = args.token or os.environ.get(TOKEN_VARIABLE)
            if not token:
                raise WorkCallFailed(f"--url needs an operator token: --token or ${TOKEN_VARIABLE}")
            answer = _remote(args.url, token, args.tenant, method, path, query, body)
        else:
            answer = asyncio.run(_local(args.config, args.tenant, method, path, query, body or {}))
    except WorkCallFailed as exc:
        print(f"work: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        show(answer)
    return 0


def _remote(
    url: str, token: str, tenant: str, method: str, path: str, query: dict[str, Any], body: dict[str, Any] | None
) -> dict[str, Any]:
    """One admin API call; the gateway's error detail becomes WorkCallFailed."""
    root = f"{url.rstrip('/')}/admin/v1/tenants/{urllib.parse.quote(tenant, safe='')}/work"
    target = root + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(target, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("detail") or exc.reason
        except ValueError:
            detail = exc.reason
        raise WorkCallFailed(f"{exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise WorkCallFailed(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None


async def _local(
    config_path: str, tenant: str, method: str, path: str, query: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """The same call through the work service in this process, on the config's directory."""
    from scim2_models import SCIMException

    from gateway.apps import manual_apps, vendor_apps, webhook_apps
    from gateway.backed.manual.events import WorkEvents
    from gateway.backed.manual.service import WorkService
    from gateway.config import load_config
    from gateway.directory.errors import DirectoryError
    from gateway.directory.store import open_directory
    from gateway.observability.audit import AuditLog
    from gateway.secrets import ConfigError

    try:
        config = load_config(config_path)
        vendor_apps(config)
    except ConfigError as exc:
        raise WorkCallFailed(f"config error: {exc}") from None
    if config.directory is None or not manual_apps(config):
        raise WorkCallFailed(f"{config_path} has no manual apps (mode: manual), so no work queue")
    if tenant not in config.tenants:
        raise WorkCallFailed(f"no tenant {tenant!r} in {config_path}")
    settings = config.observability.audit
    audit = AuditLog(settings.file or "/dev/stderr", settings.user_name)
    try:
        directory = await open_directory(config.directory)
    except DirectoryError as exc:
        audit.close()
        raise WorkCallFailed(f"directory error: {exc}") from None
    service = WorkService(directory, WorkEvents(audit, frozenset(webhook_apps(config))), manual_apps(config))
    operator = f"cli:{getpass.getuser()}"
    try:
        if method == "GET":
            states = query["state"].split(",") if "state" in query else None
            return await service.listing(
                tenant, app=query.get("app"), states=states, after=query.get("after"), limit=query["limit"]
            )
        id, action = path.strip("/").split("/")
        if action == "claim":
            return await service.claim(tenant, id, operator)
        if action == "complete":
            return await service.complete(tenant, id, operator, body.get("vendorId"))
        return await service.reject(tenant, id, operator, body.get("reason", ""))
    except SCIMException as exc:
        raise WorkCallFailed(f"{exc.status}: {exc.detail}") from None
    except DirectoryError as exc:
        raise WorkCallFailed(f"directory error: {exc}") from None
    finally:
        await directory.close()
        audit.close()


_COLUMNS = (("id", 36), ("app", 12), ("action", 10), ("state", 8), ("userName", 32), ("created", 25))


def _print_items(answer: dict[str, Any]) -> None:
    print("  ".join(name.ljust(width) for name, width in _COLUMNS).rstrip())
    for item in answer["items"]:
        print("  ".join(str(item.get(name) or "-").ljust(width) for name, width in _COLUMNS).rstrip())
    if answer.get("next"):
        print(f"(more: --after {answer['next']})")


def _print_item(item: dict[str, Any]) -> None:
    extra = f" vendorId={item['vendorId']}" if item.get("vendorId") else ""
    print(f"{item['id']} {item['app']} {item['action']} {item['userName']}: {item['state']}{extra}")
