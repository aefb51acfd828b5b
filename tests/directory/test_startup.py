"""A gateway whose directory database is unreachable starts, serves apps without a directory, and is not ready."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import structlog

from gateway.demo import start_demo
from gateway.directory.errors import DirectoryUnavailable
from tests.observability.helpers import OPERATOR_TOKEN, scim_client
from tests.processes import free_port

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # see test_unavailable.py
async def test_an_unreachable_directory_leaves_pass_through_apps_serving_and_the_pod_unready():
    port = free_port()

    def adjust(raw: dict[str, Any]) -> None:
        raw["directory"]["url"] = f"postgresql://gateway@127.0.0.1:{port}/directory"  # nothing listens there

    with structlog.testing.capture_logs() as logs:
        async with start_demo(adjust=adjust) as demo, scim_client() as client:
            ready = await client.get(demo.gateway.url + "/readyz")
            users = await client.get(demo.scim_url("acme", "invicti") + "/Users")
            orca_state = demo.simulator_url("orca", "acme") + "/_sim/state"
            before = (await client.get(orca_state)).json()["rest"]["users"]
            new_user = {"schemas": [USER], "userName": "late@acme.example", "name": {"givenName": "Late"}}
            write = await client.post(demo.scim_url("acme", "orca") + "/Users", json=new_user)
            read = await client.get(demo.scim_url("acme", "orca") + "/Users")
            after = (await client.get(orca_state)).json()["rest"]["users"]
            orca = demo.app.state.runtime.tenants["acme"].apps["orca"].resources
            with pytest.raises(DirectoryUnavailable):
                await orca.get("User", uuid.uuid4())
            metrics = (await client.get(demo.metrics_url)).text
            status = (await client.get(demo.gateway.url + "/status", headers=OPERATOR)).text
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "directory": "unavailable"}
    assert str(port) not in ready.text and "postgres" not in ready.text
    assert users.status_code == 200 and users.json()["totalResults"] >= 1
    for refused in (write, read):  # an app that needs the directory: retry later, never half-applied
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["status"] == "503" and str(port) not in refused.text
    assert after == before, "nothing reached the vendor"
    warnings = [line for line in logs if line["event"] == "directory_not_ready"]
    assert len(warnings) == 1 and warnings[0]["detail"].startswith("the directory database is unavailable")
    assert str(port) not in str(logs)
    assert 'scim_gateway_directory_operation_errors_total{error="unavailable",operation="get"} 1.0' in metrics
    assert "directory: postgresql, not ready (the directory database is unavailable" in status
    assert str(port) not in status and "gateway@" not in status
    invicti_row = status.split("<tr><td>invicti</td>")[1].split("</tr>")[0]
    orca_row = status.split("<tr><td>orca</td>")[1].split("</tr>")[0]
    assert "<td>off</td>" in invicti_row and "<td>full</td>" in orca_row  # the directory column


async def test_the_status_page_shows_a_reachable_directory_by_its_backend_only():
    async with start_demo() as demo, scim_client() as client:
        status = (await client.get(demo.gateway.url + "/status", headers=OPERATOR)).text
        data_dir = str(demo.config.directory.url.get_secret_value())
    assert "directory: sqlite, reachable" in status
    assert "directory.db" not in status and data_dir not in status
