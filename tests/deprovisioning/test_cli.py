"""`scim-gateway guard ...` and `scim-gateway dry-run list` on a config file and its SQLite directory."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from gateway.cli import main
from gateway.config import load_config
from gateway.directory.deprovisions import Deprovision, Verdict
from gateway.directory.dry_runs import RecordedCall
from gateway.directory.keys import generate_key
from gateway.directory.store import open_directory
from tests.backed.harness import directory_section, raw_config

URLS = {"orca": "http://127.0.0.1:9", "delinea": "http://127.0.0.1:9"}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    keys = {"old": generate_key(), "index": generate_key()}
    raw = raw_config(URLS, directory_section(f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}", keys), mode="off")
    raw["observability"]["audit"] = {"file": str(tmp_path / "audit.jsonl")}
    raw["tenants"]["acme"]["apps"]["delinea"]["guard"] = {"max_deprovisions": 1, "window": "10m"}
    raw["tenants"]["acme"]["apps"]["orca"]["dry_run"] = True
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, orjson.loads(out) if out.strip() else None, err


def test_an_operator_sees_and_approves_a_held_batch(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def trip() -> None:
        config = load_config(config_file)
        assert config.directory is not None
        directory = await open_directory(config.directory)
        try:
            guard = directory.deprovisions("acme", "delinea")
            await guard.admit("User", "u1", Deprovision.DELETE, limit=1, window=600)
            held = await guard.admit("User", "u2", Deprovision.DEACTIVATE, limit=1, window=600)
            assert held.verdict is Verdict.HELD
        finally:
            await directory.close()

    asyncio.run(trip())
    app = ("--config", str(config_file), "--tenant", "acme", "--app", "delinea")
    code, status, _ = run(capsys, "guard", "status", *app)
    assert code == 0 and status["holding"] and status["entries"][0]["id"] == "u2"
    code, _, err = run(capsys, "guard", "approve", *app, "--batch", "00000000-0000-0000-0000-000000000000")
    assert code == 1 and "no longer" in err
    code, approved, _ = run(capsys, "guard", "approve", *app, "--batch", status["batch"])
    assert code == 0 and approved == {"decision": "approve", "batch": status["batch"], "entries": 1}
    code, status, _ = run(capsys, "guard", "status", *app)
    assert not status["holding"] and status["entries_by_status"]["approved"] == 1
    code, _, err = run(capsys, "guard", "reject", *app)
    assert code == 1 and "no batch is held" in err
    audit = [orjson.loads(line) for line in (config_file.parent / "audit.jsonl").read_bytes().splitlines()]
    assert [(r["operation"], r["operator"].startswith("cli:")) for r in audit] == [("guard.approve", True)]
    code, _, err = run(capsys, "guard", "status", "--config", str(config_file), "--tenant", "acme", "--app", "orca")
    assert code == 1 and "has no guard" in err


def test_dry_run_list_prints_the_recorded_calls(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def record() -> None:
        config = load_config(config_file)
        assert config.directory is not None
        directory = await open_directory(config.directory)
        try:
            calls = [RecordedCall("POST", "/rbac/users", {}, {"email": "ada@acme.example"})]
            await directory.dry_runs("acme", "orca").record("create", "User", calls, None)
        finally:
            await directory.close()

    asyncio.run(record())
    app = ("--config", str(config_file), "--tenant", "acme", "--app", "orca")
    code, listed, _ = run(capsys, "dry-run", "list", *app)
    assert code == 0 and [(c["method"], c["path"], c["body"]) for c in listed["calls"]] == [
        ("POST", "/rbac/users", {"email": "ada@acme.example"})
    ]
    assert run(capsys, "dry-run", "clear", *app)[1] == {"cleared": 1}
    assert run(capsys, "dry-run", "list", *app)[1]["calls"] == []
