"""A manual app's work queue in metrics, on the status page and in the overdue alert (promtool's rule tests)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.observability.status import render
from gateway.observability.work_metrics import WorkCollector
from tests.backed.harness import entra_user
from tests.backed.manual_harness import ManualGateway, manual_gateway

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "helm/scim-gateway/files/prometheus-rules.yaml"


@pytest.fixture
async def manual(database_url: str, keys: dict[str, str], tmp_path: Path):
    async with manual_gateway(database_url, keys, tmp_path / "audit.jsonl", work_item_max_age=3600) as running:
        yield running


def sample(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(name + "{") and 'app="darktrace"' in line)
    return float(line.rsplit(" ", 1)[1])


async def test_open_items_and_their_age_in_metrics_and_on_the_status_page(manual: ManualGateway) -> None:
    work = manual.runtime.work
    assert work is not None
    async with manual.client() as client, httpx.AsyncClient() as scraper:
        for name in ("a", "b", "c"):
            assert (
                await client.post("/Users", json=entra_user(f"{name}@acme.example", f"e-{name}"))
            ).status_code == 201
        first = (await work.listing("acme"))["items"][0]
        await work.complete("acme", first["id"], "ops", "dt-a")
        await work.refresh()
        text = (await scraper.get(manual.app.state.metrics_url)).text
        assert sample(text, "scim_gateway_work_items_open") == 2
        assert 0 <= sample(text, "scim_gateway_work_item_oldest_age_seconds") < 60
        assert sample(text, "scim_gateway_work_item_max_age_seconds") == 3600
    later = WorkCollector(work, {("acme", "darktrace"): 3600}, now=lambda: time.time() + 2 * 3600)
    (opened, oldest, _, _) = list(later.collect())
    assert [s.value for s in opened.samples] == [2] and oldest.samples[0].value > 7000
    page = manual.app.state.status_page
    html = render(manual.runtime, page, page.rates.rates())
    assert "work queue" in html and "<td>darktrace</td><td>2</td>" in html
    assert "a@acme.example" not in html  # counts only


def overdue_rule() -> dict[str, Any]:
    rules = [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    found: dict[str, Any] = next(rule for rule in rules if rule.get("alert") == "ScimGatewayWorkItemsOverdue")
    return found


def test_the_overdue_alert_fires_past_the_apps_max_age(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    series = '{tenant="acme", app="darktrace", instance="gw-1"}'
    tests = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    # The oldest item ages a minute per minute; overdue after one hour.
                    {"series": f"scim_gateway_work_item_oldest_age_seconds{series}", "values": "3000+60x30"},
                    {"series": f"scim_gateway_work_item_max_age_seconds{series}", "values": "3600x30"},
                ],
                "alert_rule_test": [
                    {"eval_time": "5m", "alertname": "ScimGatewayWorkItemsOverdue", "exp_alerts": []},
                    {
                        "eval_time": "20m",
                        "alertname": "ScimGatewayWorkItemsOverdue",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "tenant": "acme", "app": "darktrace"},
                                "exp_annotations": {
                                    "summary": "acme/darktrace: a work item has been open for 1h 10m 0s",
                                    "description": overdue_rule()["annotations"]["description"]
                                    .replace("{{ $labels.tenant }}", "acme")
                                    .replace("{{ $labels.app }}", "darktrace"),
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "tests.yaml"
    path.write_text(yaml.safe_dump(tests))
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_the_vendors_connectivity_check_still_runs_for_a_manual_app(manual: ManualGateway) -> None:
    from gateway.observability.health import check_app

    app = manual.runtime.tenants["acme"].apps["darktrace"]
    await check_app(app)  # Darktrace's HMAC-signed GET /time against its simulator
    assert app.health.checked and app.health.ok, app.health.detail
    app.connector.upstream.auth = type(app.connector).vendor_auth(  # a wrong private token: refused
        type(app.connector).Settings.model_validate(
            {"base_url": "http://unused", "credentials": {"public_token": "x", "private_token": "y"}}
        )
    )
    await check_app(app)
    assert app.health.checked and not app.health.ok and "darktrace" in app.health.detail.lower(), app.health.detail
