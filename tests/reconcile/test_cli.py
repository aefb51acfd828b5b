"""`scim-gateway reconcile`: the real command on a config, a simulator over loopback, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import httpx
import yaml

from gateway.clock import Clock
from gateway.directory.leases import Leases
from gateway.inbound.serving import serving
from tests.processes import SCIM_GATEWAY
from vendors.simulators import SIMULATORS


async def _run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(SCIM_GATEWAY), *args, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


def write_config(tmp_path, sim_url: str) -> str:
    config = {
        "tenants": {
            "acme": {
                "tokens": [{"name": "okta", "sha256": "0" * 64}],
                "apps": {
                    "invicti": {"vendor": "invicti", "base_url": sim_url, "allow_insecure_url": True,
                                "credentials": {"token": "env:TEST_INVICTI_TOKEN"}},
                    "darktrace": {"vendor": "darktrace", "base_url": "https://darktrace.example",
                                  "credentials": {"public_token": "env:TEST_INVICTI_TOKEN",
                                                  "private_token": "env:TEST_INVICTI_TOKEN"}},
                },
            }
        },
        "directory": {
            "url": "env:TEST_DIRECTORY_URL",
            "encryption": {"keys": ["env:TEST_DIRECTORY_KEY"], "index_key": "env:TEST_DIRECTORY_INDEX_KEY"},
        },
        "observability": {"metrics_port": None},
    }  # fmt: skip
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def table_of(out: str) -> dict[str, list[str]]:
    """The summary table's rows: state -> [accounts, new in this run]."""
    summary = out.split("findings (")[0]
    return {line.split()[0]: line.split()[1:] for line in summary.splitlines()[3:] if line.strip()}


async def test_reconcile_prints_progress_and_a_summary_and_respects_the_lease(tmp_path, database_url, keys, directory):
    spec = SIMULATORS["invicti"]
    settings = spec.demo_settings("acme")
    simulator = spec.create_app(settings)
    async with serving(simulator) as server:
        async with httpx.AsyncClient() as client:  # an account made in Invicti's console
            await client.post(server.url + "/_sim/users", json={"userName": "mallory@acme.example"})
        path = write_config(tmp_path, server.url + spec.scim_base_path(settings))
        env = {"TEST_INVICTI_TOKEN": settings.scim_token, "TEST_DIRECTORY_URL": database_url,
               "TEST_DIRECTORY_KEY": keys["old"], "TEST_DIRECTORY_INDEX_KEY": keys["index"]}  # fmt: skip
        status, out, err = await _run("reconcile", "--config", path, "--tenant", "acme", "--app", "invicti", env=env)
        assert status == 0, err
        assert "reconciling acme/invicti" in err and "6 / 6 accounts" in err
        assert out.startswith("acme/invicti: succeeded in ") and ", 6 accounts at the vendor" in out
        table = table_of(out)
        assert table["orphan"] == ["6", "6"] and table["missing"] == ["0", "0"]
        assert "mallory@acme.example" in out  # the findings listed
        assert settings.scim_token not in out + err and keys["old"] not in out + err
        assert {entry["method"] for entry in simulator.requests} == {"GET"}

        status, out, err = await _run("reconcile", "--config", path, "--tenant", "acme", "--app", "invicti", env=env)
        assert status == 0 and table_of(out)["orphan"][:2] == ["6", "0"], out  # found again: none new

        other = Leases(directory.engine, "another-replica", Clock())  # real time, as the command's
        await other.acquire("reconcile:acme/invicti", timedelta(minutes=5))
        status, out, err = await _run("reconcile", "--config", path, "--tenant", "acme", "--app", "invicti", env=env)
        assert status == 3 and "being reconciled already" in err and out == ""

        status, out, err = await _run("reconcile", "--config", path, "--tenant", "acme", "--app", "darktrace", env=env)
        assert status == 2 and "darktrace" in err.lower()
        status, out, err = await _run("reconcile", "--config", path, "--tenant", "acme", "--app", "nope", env=env)
        assert status == 2 and "nope" in err
