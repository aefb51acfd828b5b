"""With directory state: the review's origin and orphan flag, and people answered from the directory
for an app whose vendor has no user API. Real SQLite directory, real simulators."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.demo import start_demo
from gateway.directory.keys import generate_key
from gateway.directory.records import Origin, State
from gateway.runtime import Runtime
from tests.admin.conftest import adjust, admin_url, operator, provision
from vendors.simulators.seed import demo_data


async def test_origin_orphans_and_directory_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TEST_DIRECTORY_KEY", generate_key())
    monkeypatch.setenv("ADMIN_TEST_INDEX_KEY", generate_key())

    def with_directory(raw: dict[str, Any]) -> None:
        adjust(raw)
        raw["directory"] = {
            "url": str(tmp_path / "directory.db"),
            "encryption": {"keys": ["env:ADMIN_TEST_DIRECTORY_KEY"], "index_key": "env:ADMIN_TEST_INDEX_KEY"},
        }

    async with start_demo(adjust=with_directory) as demo, httpx.AsyncClient(timeout=30) as client:
        runtime: Runtime = demo.app.state.runtime
        apps = runtime.tenants["acme"].apps
        await provision(client, demo, "abe.directory@acme.example")
        spekit = apps["spekit"]
        assert spekit.resources is not None and apps["darktrace"].resources is not None
        url = admin_url(demo, "acme", "/people")
        people = await client.get(url, params={"userName": "abe.directory@acme.example"}, headers=operator("demo"))
        vendor_id = next(a for a in people.json()["apps"] if a["app"] == "spekit")["accounts"][0]["id"]
        # What the gateway records when it provisions (once the directory is on the request path, it does).
        if await spekit.resources.by_user_name("abe.directory@acme.example") is None:
            state = State(user_name="abe.directory@acme.example", external_id="ext-abe")
            await spekit.resources.insert("User", state, vendor_id=vendor_id, origin=Origin.GATEWAY)
        # Darktrace has no user API: only the directory can say who has an account there.
        held = State(user_name="abe.directory@acme.example", attributes={"roles": [{"value": "Analyst"}]})
        await apps["darktrace"].resources.insert("User", held, vendor_id="dt-17", origin=Origin.GATEWAY)

        review = await client.get(admin_url(demo, "acme", "/access-review"), headers=operator("reader"))
        rows = list(csv.DictReader(io.StringIO(review.text)))
        spekit_rows = {row["userName"]: row for row in rows if row["app"] == "spekit"}
        abe = spekit_rows["abe.directory@acme.example"]
        assert abe["origin"] == "gateway" and abe["flags"] == "" and abe["last_seen"]
        for seeded in demo_data("acme").users:
            row = spekit_rows[seeded["userName"]]
            assert row["origin"] == "vendor" and row["flags"] == "orphan" and row["last_seen"] == ""

        found = await client.get(
            admin_url(demo, "acme", "/people"),
            params={"userName": "ABE.directory@acme.example"},
            headers=operator("demo"),
        )
        darktrace = next(a for a in found.json()["apps"] if a["app"] == "darktrace")
        assert darktrace["status"] == "found" and darktrace["source"] == "directory"
        assert darktrace["accounts"][0]["id"] == "dt-17" and darktrace["accounts"][0]["roles"] == ["Analyst"]
        nobody = await client.get(url, params={"userName": "nobody@acme.example"}, headers=operator("demo"))
        assert next(a for a in nobody.json()["apps"] if a["app"] == "darktrace")["status"] == "unsupported"
