"""`scim-gateway db upgrade` and `db generate-key`, run as an operator would: the real command, a config file."""

from __future__ import annotations

import asyncio
import os

import yaml
from pydantic import SecretStr

from gateway.directory.engine import create_engine
from gateway.directory.keys import decode_key
from gateway.directory.migrate import current_revision, head_revision
from tests.processes import SCIM_GATEWAY

APP = {"vendor": "orca-scim", "region": "us", "credentials": {"token": "env:TEST_ORCA_TOKEN"}}


async def _run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(SCIM_GATEWAY), *args, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


async def test_db_upgrade_migrates_the_configured_database(tmp_path, database_url, keys):
    config = {
        "tenants": {"acme": {"tokens": [{"name": "okta", "sha256": "0" * 64}], "apps": {"orca": APP}}},
        "directory": {
            "url": "env:TEST_DIRECTORY_URL",  # a PostgreSQL URL carries a password: a secret reference
            "encryption": {"keys": ["env:TEST_DIRECTORY_KEY"], "index_key": "env:TEST_DIRECTORY_INDEX_KEY"},
        },
    }
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {
        "TEST_ORCA_TOKEN": "t",
        "TEST_DIRECTORY_URL": database_url,
        "TEST_DIRECTORY_KEY": keys["old"],
        "TEST_DIRECTORY_INDEX_KEY": keys["index"],
    }
    status, out, err = await _run("db", "upgrade", "--config", str(path), env=env)
    head = await head_revision()
    assert (status, out.strip()) == (0, f"ok: the directory schema is at revision {head}"), err
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) == head
    finally:
        await engine.dispose()
    for secret in (keys["old"], keys["index"], database_url):
        assert secret not in out + err


async def test_db_upgrade_reports_an_unreachable_database_without_its_password(tmp_path, keys):
    url = "postgresql://gateway:hunter2-secret@127.0.0.1:1/directory"
    config = {
        "tenants": {"acme": {"tokens": [{"name": "okta", "sha256": "0" * 64}], "apps": {"orca": APP}}},
        "directory": {
            "url": "env:TEST_DIRECTORY_URL",
            "encryption": {"keys": [keys["old"]], "index_key": keys["index"]},
        },
        "allow_literal_secrets": True,
    }
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    status, out, err = await _run(
        "db", "upgrade", "--config", str(path), env={"TEST_ORCA_TOKEN": "t", "TEST_DIRECTORY_URL": url}
    )
    assert status == 1 and "directory error: the directory database is unavailable" in err
    assert "hunter2" not in out + err


async def test_db_generate_key_prints_a_usable_key():
    status, out, _ = await _run("db", "generate-key", env={})
    assert status == 0 and len(decode_key(SecretStr(out.strip()))) == 32
