"""`scim-gateway people find|offboard` and `scim-gateway review`: the admin API from a terminal.

Against a running gateway (`--url`, operator token from `--token` or SCIM_GATEWAY_OPERATOR_TOKEN)
or directly on a config (`--config FILE`, the same service code in this process). Tables go to
stdout, progress to stderr (on a terminal). Exit status: 0 done, 1 could not run (config, network,
refused), 3 an offboarding left apps failed (retry them with --apps).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a command runs: `scim-gateway --help` stays quick
    from gateway.admin.accounts import Lookup
    from gateway.admin.local import LocalAdmin
    from gateway.admin.offboard import Offboarding
    from gateway.admin.people import Progress
    from gateway.admin.remote import RemoteAdmin

TOKEN_VARIABLE = "SCIM_GATEWAY_OPERATOR_TOKEN"
PARTIAL = 3


def add_commands(commands: Any) -> None:
    """Add `people` and `review` to the main parser's subcommands."""
    people = commands.add_parser("people", help="find or offboard a person in every app of a tenant")
    actions = people.add_subparsers(required=True, metavar="ACTION", help="find or offboard")

    find = actions.add_parser("find", help="which apps have an account for a person, and in what state")
    who = find.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-name", help="the person's userName")
    who.add_argument("--email", help="the person's email")
    who.add_argument("--external-id", help="the person's externalId (the IdP's id)")
    _target_options(find)
    find.set_defaults(func=_find)

    off = actions.add_parser("offboard", help="deactivate (or delete) a person's accounts in every app")
    off.add_argument("--user-name", required=True, help="the person's userName")
    off.add_argument("--mode", choices=["deactivate", "delete"], default="deactivate", help="default: deactivate")
    off.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    off.add_argument("--apps", help="only these apps, comma-separated (to retry the ones that failed)")
    _target_options(off)
    off.set_defaults(func=_offboard)

    review = commands.add_parser("review", help="access review: every account of every app, as CSV or JSON lines")
    review.add_argument("--roster", metavar="FILE", help="the IdP's roster (CSV of userNames[,active] or JSON list)")
    review.add_argument("--format", choices=["csv", "jsonl"], default="csv", help="default: csv")
    review.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    _target_options(review, table=False)
    review.set_defaults(func=_review)


def _target_options(parser: argparse.ArgumentParser, table: bool = True) -> None:
    parser.add_argument("--tenant", required=True, help="the tenant")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running gateway's base URL (e.g. https://scim.example.com)")
    where.add_argument("--config", metavar="FILE", help="run in this process on this config file instead")
    parser.add_argument("--token", help=f"operator token for --url (default: ${TOKEN_VARIABLE}; keeps it out of ps)")
    if table:
        parser.add_argument("--json", action="store_true", help="print the API's JSON answer instead of a table")


def _find(args: argparse.Namespace) -> int:
    given: tuple[tuple[Lookup, str | None], ...] = (
        ("userName", args.user_name),
        ("email", args.email),
        ("externalId", args.external_id),
    )
    by, value = next((name, value) for name, value in given if value)
    return _run(args, lambda target, progress: target.find(by, value, progress), _print_people)


def _offboard(args: argparse.Namespace) -> int:
    from gateway.admin.offboard import Offboarding

    apps = tuple(name.strip() for name in args.apps.split(",") if name.strip()) if args.apps else None
    request = Offboarding(args.user_name, args.mode, args.dry_run, apps)
    return _run(args, lambda target, progress: target.offboard(request, progress), _print_offboarding)


def _review(args: argparse.Namespace) -> int:
    from gateway.admin.tables import Progress, RowsProgress

    target = _target(args)
    if target is None:
        return 1
    roster = _read(args.roster) if args.roster else None
    if args.roster and roster is None:
        return 1
    progress = Progress()
    out: IO[bytes] = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
    try:
        if isinstance(target, _Remote):
            media = "application/json" if roster and roster.lstrip().startswith(b"[") else "text/csv"
            target.admin.review(args.format, out, roster, media, lambda n: progress.show(f"{n // 1024} KiB received"))
        else:
            from gateway.admin.roster import parse_roster

            parsed = parse_roster(roster, None) if roster is not None else None
            asyncio.run(target.admin.review(args.format, out, parsed, RowsProgress(progress)))
    except Exception as exc:
        return _failed(exc)
    finally:
        progress.done()
        out.flush()
        if args.output:
            out.close()
    return 0


class _Remote:
    """A running gateway's admin API, behind the same coroutines as LocalAdmin's."""

    def __init__(self, admin: RemoteAdmin) -> None:
        self.admin = admin

    async def find(self, by: Lookup, value: str, progress: Progress | None) -> dict[str, Any]:
        return await asyncio.to_thread(self.admin.find, by, value)

    async def offboard(self, request: Offboarding, progress: Progress | None) -> dict[str, Any]:
        body: dict[str, Any] = {"userName": request.user_name, "mode": request.mode, "dry_run": request.dry_run}
        if request.apps is not None:
            body["apps"] = list(request.apps)
        return await asyncio.to_thread(self.admin.offboard, body)


class _Local:
    """The services in this process, on a config."""

    def __init__(self, admin: LocalAdmin) -> None:
        self.admin = admin

    async def find(self, by: Lookup, value: str, progress: Progress | None) -> dict[str, Any]:
        return await self.admin.find(by, value, progress)

    async def offboard(self, request: Offboarding, progress: Progress | None) -> dict[str, Any]:
        return await self.admin.offboard(request, progress)


Target = _Remote | _Local
Call = Callable[[Target, "Progress | None"], Coroutine[Any, Any, dict[str, Any]]]


def _target(args: argparse.Namespace) -> Target | None:
    """The gateway to call (remote or in-process); None, the reason printed, when it cannot be had."""
    if args.url:
        from gateway.admin.remote import RemoteAdmin

        token = args.token or os.environ.get(TOKEN_VARIABLE)
        if not token:
            print(f"an operator token is needed: --token or ${TOKEN_VARIABLE}", file=sys.stderr)
            return None
        return _Remote(RemoteAdmin(args.url, token, args.tenant))
    from gateway.admin.local import LocalAdmin
    from gateway.cli import load_checked

    config = load_checked(args.config)
    if config is None:
        return None
    try:
        return _Local(LocalAdmin(config, args.tenant))
    except KeyError as exc:
        print(f"config error: {exc.args[0]}", file=sys.stderr)
        return None


def _run(args: argparse.Namespace, call: Call, show: Callable[[dict[str, Any]], str]) -> int:
    from gateway.admin.tables import AppsProgress, Progress

    target = _target(args)
    if target is None:
        return 1
    progress = Progress()
    try:
        # A remote answer arrives whole: progress only for the in-process run, which sees each app answer.
        counter = AppsProgress(progress, target.admin.app_count) if isinstance(target, _Local) else None
        answer = asyncio.run(call(target, counter))
    except Exception as exc:
        return _failed(exc)
    finally:
        progress.done()
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        print(show(answer))
    return PARTIAL if answer.get("failed") else 0


def _print_people(answer: dict[str, Any]) -> str:
    from gateway.admin.tables import table

    rows: list[list[Any]] = []
    for app in answer["apps"]:
        accounts = app.get("accounts") or [{}]
        for account in accounts:
            rows.append(
                [
                    app["app"], app["status"], app.get("source"), account.get("id"), account.get("userName"),
                    account.get("active"), account.get("roles"), account.get("groups"),
                    "privileged" if account.get("privileged") else app.get("detail"),
                ]
            )  # fmt: skip
    headers = ["app", "status", "source", "id", "userName", "active", "roles", "groups", "note"]
    found = sum(1 for app in answer["apps"] if app["status"] == "found")
    return f"{table(headers, rows)}\n\nfound in {found} of {len(answer['apps'])} apps"


def _print_offboarding(answer: dict[str, Any]) -> str:
    from gateway.admin.tables import table

    rows = [[app["app"], app["status"], app.get("id"), _retry_note(app), app.get("detail")] for app in answer["apps"]]
    text = table(["app", "result", "id", "retry", "detail"], rows)
    mode = f"{answer['mode']} (dry run: nothing changed)" if answer["dry_run"] else answer["mode"]
    if answer["failed"]:
        failed = ",".join(answer["failed"])
        return f"{text}\n\n{mode}: {len(answer['failed'])} apps failed; retry them with --apps {failed}"
    return f"{text}\n\n{mode}: done on every app that has a user API"


def _retry_note(app: dict[str, Any]) -> str | None:
    if app["status"] != "failed":
        return None
    return "retryable" if app.get("retryable") else "not retryable"


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None


def _failed(exc: Exception) -> int:
    """Print why a command could not run; 1."""
    from gateway.admin.remote import AdminCallFailed

    if isinstance(exc, AdminCallFailed):
        print(exc, file=sys.stderr)
    else:
        detail = getattr(exc, "detail", None) or getattr(exc, "message", None) or str(exc)
        print(f"failed: {detail}", file=sys.stderr)
    return 1
