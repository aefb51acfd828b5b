"""`scim-gateway people find|offboard` and `scim-gateway review`, against the running demo (--url)
and in-process on its config (--config), with readable tables and exit statuses."""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.admin.review import COLUMNS
from gateway.cli import main
from gateway.config import read_yaml
from gateway.demo import DemoEnvironment, demo_config_path
from tests.admin.conftest import DEMO_OPERATOR, adjust, fault, provision

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def run(*argv: str) -> int:
    """The command as a terminal runs it (its own event loop, in a thread beside the demo's)."""
    return await asyncio.to_thread(main, list(argv))


def printed(out: str) -> list[str]:
    """The command's own lines: the demo running in this process logs and audits to stdout too."""
    lines = out.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(("app ", "{")) and "event" not in line)
    return [line for line in lines[start:] if not line.startswith('{"event"') and "app_health" not in line]


def printed_json(out: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads("\n".join(printed(out)))
    return answer


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIM_GATEWAY_OPERATOR_TOKEN", DEMO_OPERATOR)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The demo's config as the running demo uses it (same simulators), auditing to a file."""
    raw = read_yaml(demo_config_path())
    adjust(raw, tmp_path / "audit.jsonl")
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


async def test_find_prints_a_table_of_every_app(
    demo: DemoEnvironment, client: httpx.AsyncClient, token: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await provision(client, demo, "cleo.cli@acme.example")
    assert (
        await run(
            "people", "find", "--user-name", "cleo.cli@acme.example", "--tenant", "acme", "--url", demo.gateway.url
        )
        == 0
    )
    lines = printed(capsys.readouterr().out)
    assert lines[0].split() == ["app", "status", "source", "id", "userName", "active", "roles", "groups", "note"]
    spekit = next(line for line in lines if line.startswith("spekit "))
    assert "found" in spekit and "vendor" in spekit and "cleo.cli@acme.example" in spekit and " yes " in spekit
    assert next(line for line in lines if line.startswith("darktrace ")).split()[1] == "unsupported"
    assert lines[-1] == "found in 6 of 7 apps"


async def test_offboard_dry_run_partial_failure_and_retry(
    demo: DemoEnvironment, client: httpx.AsyncClient, token: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await provision(client, demo, "dora.cli@acme.example")
    target = ("--tenant", "acme", "--url", demo.gateway.url)
    assert await run("people", "offboard", "--user-name", "dora.cli@acme.example", "--dry-run", *target) == 0
    out = capsys.readouterr().out
    assert out.count("would_deactivate") == 6 and "deactivate (dry run: nothing changed)" in out

    async with fault(client, demo, "invicti", "acme", {"status": 503, "method": "PATCH", "times": -1}):
        assert await run("people", "offboard", "--user-name", "dora.cli@acme.example", *target) == 3
    out = capsys.readouterr().out
    invicti = next(line for line in printed(out) if line.startswith("invicti "))
    assert invicti.split()[1] == "failed" and "retryable" in invicti
    assert printed(out)[-1] == "deactivate: 1 apps failed; retry them with --apps invicti"

    assert (
        await run("people", "offboard", "--user-name", "dora.cli@acme.example", "--apps", "invicti", "--json", *target)
        == 0
    )
    answer = printed_json(capsys.readouterr().out)
    assert [(app["app"], app["status"]) for app in answer["apps"]] == [("invicti", "deactivated")]


async def test_review_to_a_file_with_a_roster(
    demo: DemoEnvironment, token: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster, output = tmp_path / "roster.csv", tmp_path / "review.csv"
    roster.write_text("userName\nnobody.else@acme.example\n")
    target = ("--tenant", "acme", "--url", demo.gateway.url)
    assert await run("review", "--roster", str(roster), "--output", str(output), *target) == 0
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert tuple(rows[0]) == COLUMNS
    accounts = [row for row in rows if row["kind"] == "account"]
    assert accounts and all("not_in_roster" in row["flags"] for row in accounts if row["active"] == "true")
    assert [row["kind"] for row in rows if row["app"] == "darktrace"] == ["unsupported"]


async def test_refusals_and_missing_tokens_exit_1(
    demo: DemoEnvironment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SCIM_GATEWAY_OPERATOR_TOKEN", raising=False)
    target = ("--tenant", "acme", "--url", demo.gateway.url)
    assert await run("people", "find", "--user-name", "x@acme.example", *target) == 1
    assert "an operator token is needed" in capsys.readouterr().err
    assert await run("people", "find", "--user-name", "x@acme.example", "--token", "acme-demo-token", *target) == 1
    assert "the gateway answered 401" in capsys.readouterr().err
    nowhere = ("--tenant", "acme", "--url", "http://127.0.0.1:9", "--token", DEMO_OPERATOR)
    assert await run("people", "find", "--user-name", "x@acme.example", *nowhere) == 1
    assert "cannot reach the gateway" in capsys.readouterr().err


async def test_in_process_on_a_config_runs_the_same_services_and_audits(
    demo: DemoEnvironment,
    client: httpx.AsyncClient,
    config_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await provision(client, demo, "emil.local@acme.example")
    target = ("--tenant", "acme", "--config", str(config_file))
    assert await run("people", "find", "--email", "emil.local@acme.example", "--json", *target) == 0
    found = printed_json(capsys.readouterr().out)
    assert sum(1 for app in found["apps"] if app["status"] == "found") == 6

    assert (
        await run("people", "offboard", "--user-name", "emil.local@acme.example", "--apps", "spekit,orca", *target) == 0
    )
    assert capsys.readouterr().out.count("deactivated") == 2
    output = tmp_path / "review.jsonl"
    assert await run("review", "--format", "jsonl", "--output", str(output), *target) == 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    emil = {row["app"]: row["active"] for row in rows if row["userName"] == "emil.local@acme.example"}
    assert emil["spekit"] is False and emil["orca"] is False and emil["invicti"] is True

    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    operations = [(record["operation"], record.get("app")) for record in records]
    assert operations[0] == ("admin.people.find", None) and ("admin.access_review", None) in operations
    assert {("admin.people.offboard.app", "spekit"), ("admin.people.offboard.app", "orca")} <= set(operations)
    assert {record["token_name"] for record in records} == {f"cli:{getpass.getuser()}"}
    assert (
        await run(
            "people", "find", "--user-name", "x@acme.example", "--tenant", "initech", "--config", str(config_file)
        )
        == 1
    )
    assert "no tenant 'initech'" in capsys.readouterr().err
