"""The alert rules and the Grafana dashboard against real Prometheus tooling (issue 5).

`promtool check rules` validates the rules file; a real Prometheus server
(Debian's prometheus package) scrapes a demo gateway with traffic every
second, answers a PromQL query for the expected series, evaluates the alert
rules, and answers every expression of the dashboard without error.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.observability.helpers import demo_gateway, require_binary, scim_client
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "helm/scim-gateway/files/prometheus-rules.yaml"
DASHBOARD = ROOT / "helm/scim-gateway/files/grafana-dashboard.json"
#: Grafana's template variables, as the test substitutes them (the "All" value of $tenant/$app is `.*`).
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$tenant": ".*", "$app": ".*"}
WAIT = 45.0


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    return [substitute(expr) for expr in exprs]


def substitute(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def rule_exprs() -> list[str]:
    return [rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def test_alert_rules_pass_promtool() -> None:
    promtool = require_binary("promtool")
    result = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rule_exprs())} rules found" in result.stdout


def test_the_new_orphans_alert_fires_on_new_orphans_only() -> None:
    promtool = require_binary("promtool")
    cases = Path(__file__).with_name("prometheus-rules-test.yaml")
    result = subprocess.run([promtool, "test", "rules", str(cases)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_dashboard_is_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "scim-gateway" and dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"]), panel["title"]
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert variables == {"datasource", "tenant", "app"}
    used = set(re.findall(r"\$\w+", " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))))
    assert used <= set(GRAFANA_VARIABLES), f"variables the test does not substitute: {used - set(GRAFANA_VARIABLES)}"
    text = DASHBOARD.read_text()
    for topic in ("scim_gateway_requests_total", "scim_gateway_request_duration_seconds_bucket",
                  "scim_gateway_throttled_requests_total", "scim_gateway_upstream_requests_total",
                  "scim_gateway_circuit_open", "scim_gateway_token_refreshes_total", "scim_gateway_accounts",
                  "scim_gateway_reconcile_new_findings_total"):  # fmt: skip
        assert topic in text, f"the dashboard shows {topic}"


@asynccontextmanager
async def prometheus_server(tmp_path: Path, target: str) -> AsyncIterator[str]:
    """A real Prometheus scraping `target` (host:port) every second, with the alert rules loaded."""
    binary = require_binary("prometheus")
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": "scim-gateway", "static_configs": [{"targets": [target]}]}],
    }
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    log = (tmp_path / "prometheus.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        binary, f"--config.file={config_file}", f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn", stdout=log, stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            await until(lambda: ready(client, url), f"Prometheus ready on {url}", process)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        log.close()


async def ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url + "/-/ready")).status_code == 200
    except httpx.TransportError:
        return False


async def until(check: Any, what: str, process: asyncio.subprocess.Process | None = None) -> Any:
    """Poll `check` (an async callable) until truthy; fail after WAIT seconds (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while loop.time() < deadline:
        assert process is None or process.returncode is None, f"the process exited while waiting for {what}"
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def query(client: httpx.AsyncClient, prometheus: str, expr: str) -> list[dict[str, Any]]:
    """The instant vector for `expr`; fails on any PromQL or server error."""
    response = await client.get(prometheus + "/api/v1/query", params={"query": expr})
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", f"{expr}: {body}"
    result = body["data"]["result"]
    return result if isinstance(result, list) else [result]


async def test_real_prometheus_scrapes_the_demo_and_answers_every_expression(tmp_path: Path) -> None:
    async with demo_gateway() as demo, scim_client() as acme:
        for _ in range(7):
            assert (await acme.get(demo.scim_url("acme", "invicti") + "/Users")).status_code == 200
        await acme.get(demo.scim_url("acme", "invicti") + "/Users", headers={"Authorization": "Bearer wrong"})
        target = demo.metrics_url.removeprefix("http://").removesuffix("/metrics")  # its own port
        async with prometheus_server(tmp_path, target) as prometheus, httpx.AsyncClient() as client:
            expected = 'scim_gateway_requests_total{tenant="acme",app="invicti",operation="list",status_class="2xx"}'

            async def counted() -> list[dict[str, Any]]:
                return [s for s in await query(client, prometheus, expected) if float(s["value"][1]) == 7]

            (series,) = await until(counted, "the scraped request count")
            assert series["metric"]["job"] == "scim-gateway" and series["metric"]["instance"] == target
            # More traffic between scrapes, so that rate() over the window has something to say.
            for _ in range(5):
                await acme.get(demo.scim_url("acme", "invicti") + "/Users")

            async def rated() -> list[dict[str, Any]]:
                rate = 'sum(rate(scim_gateway_requests_total{tenant="acme"}[1m]))'
                return [s for s in await query(client, prometheus, rate) if float(s["value"][1]) > 0]

            await until(rated, "a non-zero request rate")
            for expr in dashboard_exprs() + rule_exprs():
                await query(client, prometheus, expr)  # answered without error
            answered = [expr for expr in dashboard_exprs() if await query(client, prometheus, expr)]
            assert len(answered) >= len(dashboard_exprs()) * 2 // 3, "most panels have data after demo traffic"
            tenants = (await client.get(prometheus + "/api/v1/label/tenant/values")).json()["data"]
            assert {"acme", "globex"} <= set(tenants)

            async def rules_evaluated() -> list[dict[str, Any]]:
                groups = (await client.get(prometheus + "/api/v1/rules")).json()["data"]["groups"]
                rules = [rule for group in groups for rule in group["rules"]]
                evaluated = all(not rule["lastEvaluation"].startswith("0001") for rule in rules)
                return rules if rules and evaluated else []

            rules = await until(rules_evaluated, "the alert rules evaluated")
            assert len(rules) == len(rule_exprs())
            assert all(rule["health"] == "ok" for rule in rules), [(r["name"], r.get("lastError")) for r in rules]
