"""The Helm chart, linted and rendered offline by Helm itself (helm-python-sdk), asserted on the parsed manifests.

Default values and tests/deploy/values-production.yaml (3..10 pods, HPA, external Redis, ServiceMonitor,
PrometheusRule, dashboard) must lint clean in strict mode and render; the rendered gateway config must pass
`scim-gateway check-config` with the env and files the pod would get from its Secrets.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from gateway.app import create_app
from gateway.cli import build_parser
from gateway.config import parse_config
from gateway.directory.keys import generate_key
from tests.deploy.chart import (
    CHART,
    Rendered,
    lint,
    merged,
    pod_environment,
    production_values,
    render,
    render_error,
    secret_mounts,
)

REDIS = {"redis": {"bundled": {"enabled": True}}}
BUNDLED_WITH_AUTH = {"replicaCount": 2, "redis": {"bundled": {"enabled": True, "auth": {"existingSecret": "auth"}}}}
KUBE_MINIMUM = yaml.safe_load((CHART / "Chart.yaml").read_text())["kubeVersion"].removeprefix(">=").split("-")[0]
CLI = Path(sys.executable).with_name("scim-gateway")  # the console script, as the image runs it


@pytest.fixture(scope="module")
def default() -> Rendered:
    return render()


@pytest.fixture(scope="module")
def production() -> Rendered:
    return render(production_values())


@pytest.mark.parametrize("name", ["default", "production"])
def test_chart_lints_clean_in_strict_mode(name):
    report = lint(production_values() if name == "production" else None)
    assert report["total_charts_linted"] == 1
    assert report["errors"] == []
    problems = [message for message in report["messages"] if message["severity"] >= 2]
    assert problems == [], problems
    assert lint({"replicaCuont": 3})["errors"], "lint passes a typo: it checks nothing"


SCHEMA_LESS = {"ServiceMonitor", "PrometheusRule"}  # CRDs of the Prometheus operator: checked field by field below


@pytest.mark.parametrize("kube", [KUBE_MINIMUM, "1.34"])
@pytest.mark.parametrize("name", ["default", "production", "bundled"])
def test_every_manifest_is_valid_against_the_kubernetes_schema(name, kube):
    """Strict (no unknown fields) against the chart's lowest kubeVersion and a recent release, offline."""
    values = {"default": {}, "production": production_values(), "bundled": BUNDLED_WITH_AUTH}[name]
    validated = set()
    for manifest in render(values).manifests:
        if manifest["kind"] in SCHEMA_LESS:
            continue
        kubernetes_validate.validate(manifest, kube, strict=True)
        validated.add(manifest["kind"])
    assert {"Deployment", "Service", "ConfigMap", "NetworkPolicy"} <= validated


def test_schema_rejects_typos_literal_credentials_and_bad_sizes():
    assert "replicaCuont" in render_error({"replicaCuont": 3})
    assert "minimum" in render_error({"replicaCount": 0})
    literal = {
        "tenants": {
            "acme": {
                "tokens": [{"name": "okta", "sha256": "a" * 64}],
                "apps": {"invicti": {"vendor": "invicti", "credentials": {"token": "s3cr3t"}}},
            }
        }
    }
    assert "/config/tenants/acme/apps/invicti/credentials/token" in render_error({"config": literal})
    assert "tokens" in render_error({"config": {"tenants": {"acme": {"tokens": []}}}})


def test_container_runs_the_cli_serving_the_mounted_config(production):
    container = production.container
    args = build_parser().parse_args(container["args"])
    assert args.func.__name__ == "_serve"
    assert args.port == container["ports"][0]["containerPort"]
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    config_dir, config_file = os.path.split(args.config)
    assert mounts[config_dir]["readOnly"] is True
    volumes = {volume["name"]: volume for volume in production.deployment["spec"]["template"]["spec"]["volumes"]}
    config_map = production.one("ConfigMap", "scim-gateway")
    assert volumes[mounts[config_dir]["name"]]["configMap"]["name"] == config_map["metadata"]["name"]
    assert config_file in config_map["data"]
    assert container["image"] == "registry.example.com/platform/scim-gateway:0.1.0"


def test_chart_agrees_with_the_image_and_the_package(default):
    """The pod runs as the image's user on the image's port, and appVersion is the package's version."""
    dockerfile = (CHART.parents[1] / "Dockerfile").read_text()
    uid = re.search(r"^USER (\d+)", dockerfile, re.MULTILINE).group(1)
    port = re.search(r"^EXPOSE (\d+)", dockerfile, re.MULTILINE).group(1)
    pod = default.deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == int(uid)
    assert default.container["ports"][0]["containerPort"] == int(port)
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    pyproject = tomllib.loads((CHART.parents[1] / "pyproject.toml").read_text())
    assert chart["appVersion"] == pyproject["project"]["version"]
    assert default.container["image"] == f"scim-gateway:{chart['appVersion']}"


@pytest.mark.parametrize("name", ["default", "production"])
def test_probes_hit_the_apps_health_routes(name, request):
    rendered: Rendered = request.getfixturevalue(name)
    container = rendered.container
    routes = {route.path for route in create_app(parse_config(_without_secrets(rendered.config))).routes}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        check = container[probe]["httpGet"]
        assert check["path"] == path and path in routes, f"{probe} probes {check['path']}"
        assert check["port"] == "http" and container["ports"][0]["name"] == "http"


def _without_secrets(config: dict) -> dict:
    """The config with its secret-bearing parts dropped, to build the app's route table without a pod."""
    config = {**config, "throttle": {"backend": "local"}}
    config.pop("directory", None)  # no app left to keep anything in it
    config["tenants"] = {name: {**tenant, "apps": {}} for name, tenant in config["tenants"].items()}
    return config


@pytest.mark.parametrize("name", ["default", "production"])
def test_security_context_is_locked_down_with_tmp_the_only_writable_path(name, request):
    rendered: Rendered = request.getfixturevalue(name)
    pod = rendered.deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    context = rendered.container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["runAsNonRoot"] is True
    assert context["capabilities"]["drop"] == ["ALL"] and "add" not in context["capabilities"]
    assert context["seccompProfile"]["type"] == "RuntimeDefault"
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    writable = [m for m in rendered.container["volumeMounts"] if not m.get("readOnly")]
    assert [m["mountPath"] for m in writable] == ["/tmp"]
    assert "emptyDir" in volumes[writable[0]["name"]]


def test_default_install_is_one_pod_with_local_limits_and_a_placeholder_tenant(default):
    assert default.deployment["spec"]["replicas"] == 1
    assert not default.all("HorizontalPodAutoscaler") and not default.all("PodDisruptionBudget")
    assert default.config["throttle"] == {"backend": "local", "replicas": 1}
    assert list(default.config["tenants"]) == ["placeholder"]
    assert "no tenants are configured" in default.notes
    assert not default.all("ServiceMonitor") and not default.all("PrometheusRule")
    assert {doc["kind"] for doc in default.manifests} == {
        "ConfigMap",
        "Deployment",
        "Service",
        "ServiceAccount",
        "NetworkPolicy",
    }


def test_production_autoscales_with_a_pdb_and_spreads_over_zones_and_nodes(production):
    hpa = production.one("HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert hpa["spec"]["scaleTargetRef"]["name"] == production.deployment["metadata"]["name"]
    assert "replicas" not in production.deployment["spec"], "a fixed replicas field fights the HPA"
    assert production.container["resources"]["requests"]["cpu"], "CPU utilisation needs a CPU request"
    pdb = production.one("PodDisruptionBudget")
    selector = production.deployment["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["selector"]["matchLabels"] == selector and pdb["spec"]["maxUnavailable"] == 1
    spread = production.deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    assert all(c["labelSelector"]["matchLabels"] == selector for c in spread)


def test_multi_pod_install_shares_limits_through_redis(production):
    throttle = production.config["throttle"]
    assert throttle["backend"] == "redis"
    assert throttle["replicas"] == 10, "on Redis failure each pod must enforce limit / the most pods that can run"
    assert throttle["redis"]["url"] == "env:SCIM_GATEWAY_REDIS_URL"
    (env,) = [item for item in production.container["env"] if item["name"] == "SCIM_GATEWAY_REDIS_URL"]
    assert env["valueFrom"]["secretKeyRef"] == {"name": "scim-gateway-redis", "key": "url"}
    fixed = render({"replicaCount": 3, **REDIS})
    assert fixed.config["throttle"]["backend"] == "redis" and fixed.config["throttle"]["replicas"] == 3


def test_failed_auth_budgets_reach_the_config_and_validate():
    assert "failed_auth" not in render().config["throttle"]  # the gateway's defaults
    budgets = {"client": {"rate": 0.5, "burst": 10, "max_wait": 2}, "max_delayed": 50}
    rendered = render({"throttle": {"failedAuth": budgets}})
    assert rendered.config["throttle"]["failed_auth"] == budgets
    assert parse_config(rendered.config).throttle.failed_auth.client.rate == 0.5


@pytest.mark.parametrize("values", [{"replicaCount": 2}, {"autoscaling": {"enabled": True}}])
def test_multi_pod_install_with_per_process_limits_refuses_to_render_unless_forced(values):
    assert "needs limits shared through Redis" in render_error(values)
    assert "multiplies every limit" in render_error(merged(values, {"throttle": {"backend": "local"}, **REDIS}))
    forced = render(merged(values, {"throttle": {"allowPerProcessLimits": True}}))
    pods = 6 if "autoscaling" in values else 2
    assert forced.config["throttle"] == {"backend": "local", "replicas": pods}


def test_config_throttle_is_refused_in_favour_of_the_chart_values():
    message = render_error({"config": {"throttle": {"backend": "local"}}})
    assert "config.throttle is rendered by the chart" in message


def test_bundled_redis_is_private_to_the_gateway_pods_and_its_selectors_do_not_overlap():
    rendered = render({"replicaCount": 2, "redis": {"bundled": {"enabled": True, "auth": {"existingSecret": "r"}}}})
    gateway, redis = rendered.deployment, rendered.one("Deployment", "-redis")
    gateway_labels = gateway["spec"]["template"]["metadata"]["labels"]
    redis_labels = redis["spec"]["template"]["metadata"]["labels"]
    assert not _selects(gateway["spec"]["selector"]["matchLabels"], redis_labels)
    assert not _selects(rendered.one("Service", "scim-gateway")["spec"]["selector"], redis_labels)
    assert _selects(rendered.one("Service", "-redis")["spec"]["selector"], redis_labels)
    policy = rendered.one("NetworkPolicy", "-redis")
    (rule,) = policy["spec"]["ingress"]
    assert [_selects(peer["podSelector"]["matchLabels"], gateway_labels) for peer in rule["from"]] == [True]
    assert policy["spec"]["egress"] == []
    (redis_container,) = redis["spec"]["template"]["spec"]["containers"]
    assert redis_container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "--requirepass" in redis_container["args"]
    env = pod_environment(rendered, {"r": {"redis-password": "pw"}})
    assert env["SCIM_GATEWAY_REDIS_URL"] == "redis://:pw@scim-scim-gateway-redis:6379/0"


def _selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_network_policy_allows_only_dns_vendors_redis_and_postgresql_out(production, default):
    assert default.one("NetworkPolicy")["spec"]["policyTypes"] == ["Ingress", "Egress"]
    spec = production.one("NetworkPolicy")["spec"]
    assert _selects(spec["podSelector"]["matchLabels"], production.deployment["spec"]["template"]["metadata"]["labels"])
    egress = {tuple(port["port"] for port in rule["ports"]): rule.get("to") for rule in spec["egress"]}
    assert set(egress) == {(53, 53), (443,), (6380,), (5432,)}
    (vendors,) = egress[(443,)]
    assert "10.0.0.0/8" in vendors["ipBlock"]["except"], "vendor egress must not reach cluster-internal addresses"
    assert egress[(6380,)] == [{"ipBlock": {"cidr": "10.20.0.0/24"}}]
    assert egress[(5432,)] == [{"ipBlock": {"cidr": "10.30.0.0/24"}}]
    ingress = {rule["ports"][0]["port"]: rule["from"] for rule in spec["ingress"]}
    assert set(ingress) == {"http", "metrics"}
    assert ingress["metrics"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
    main_port = merged(
        production_values(), {"config": {"observability": {"metrics_port": None, "metrics_on_main_port": True}}}
    )
    rules = render(main_port).one("NetworkPolicy")["spec"]["ingress"]
    scrapers = production_values()["networkPolicy"]["metricsFrom"]
    assert {"ports": [{"port": "http", "protocol": "TCP"}], "from": scrapers} in rules, "Prometheus cannot scrape"


def test_credentials_are_referenced_from_existing_secrets_never_inlined(production):
    assert not production.all("Secret"), "the chart must not create Secrets holding credentials"
    for tenant in production.config["tenants"].values():
        for app in tenant["apps"].values():
            for reference in app["credentials"].values():
                assert reference.startswith(("env:", "file:/var/run/secrets/scim-gateway/")), reference
    for item in production.container["env"]:
        assert "valueFrom" in item, f"env {item['name']} carries a literal value"
    assert list(secret_mounts(production)) == [
        ("/var/run/secrets/scim-gateway", "scim-gateway-credentials"),
        ("/var/run/secrets/scim-gateway-directory", "scim-gateway-directory-keys"),
    ]
    assert "config refers to env:NOPE" in render_error(_with_credential(production_values(), "env:NOPE"))
    assert "not in a mounted volume" in render_error(_with_credential(production_values(), "file:/etc/passwd"))
    no_secret = _with_credential({}, "file:/var/run/secrets/scim-gateway/token")
    assert "not in a mounted volume" in render_error(no_secret), "a file reference without existingSecret"
    assert "allow_literal_secrets" in render_error({"config": {"allow_literal_secrets": True}})


def _with_credential(values: dict, reference: str) -> dict:
    app = {
        "vendor": "invicti",
        "base_url": "https://platform.invicti.com/api/scim/v2",
        "credentials": {"token": reference},
    }
    tenant = {"tokens": [{"name": "okta", "sha256": "c" * 64}], "apps": {"invicti": app}}
    return merged(values, {"config": {"tenants": {"extra": tenant}}})


def test_checksum_annotation_follows_the_config_and_only_the_config(production):
    def checksum(rendered: Rendered) -> str:
        return rendered.deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    assert checksum(production) == hashlib.sha256(production.config_text.rstrip("\n").encode()).hexdigest()
    token = {"name": "onelogin", "sha256": "b" * 64}
    tokens = [*production_values()["config"]["tenants"]["globex"]["tokens"], token]
    changed = render(merged(production_values(), {"config": {"tenants": {"globex": {"tokens": tokens}}}}))
    assert checksum(changed) != checksum(production)
    unrelated = render(merged(production_values(), {"resources": {"requests": {"cpu": "1"}}}))
    assert checksum(unrelated) == checksum(production)
    assert checksum(render(merged(production_values(), {"autoscaling": {"maxReplicas": 12}}))) != checksum(production)


def test_metrics_port_is_exposed_and_scraped_by_the_service_monitor(production):
    monitor = production.one("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    ports = {port["name"]: port for port in production.one("Service", "scim-gateway")["spec"]["ports"]}
    assert ports["metrics"]["port"] == production.config["observability"]["metrics_port"] == 9090
    assert _selects(monitor["spec"]["selector"]["matchLabels"], production.one("Service")["metadata"]["labels"])
    default = render()
    assert {p["name"]: p["port"] for p in default.one("Service")["spec"]["ports"]}["metrics"] == 9464, "own port"
    assert not default.config["observability"].get("metrics_on_main_port"), "never on the main port by default"
    main_port = merged(
        production_values(), {"config": {"observability": {"metrics_port": None, "metrics_on_main_port": True}}}
    )
    rendered = render(main_port)
    assert rendered.config["observability"]["metrics_port"] is None, "no port the chart does not expose"
    assert "metrics" not in {p["name"] for p in rendered.one("Service")["spec"]["ports"]}


def test_prometheus_rule_carries_the_shipped_alert_rules(production):
    shipped = yaml.safe_load((CHART / "files" / "prometheus-rules.yaml").read_text())
    rule = production.one("PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"]["groups"] == shipped["groups"] and shipped["groups"]
    assert any("alert" in item for group in shipped["groups"] for item in group["rules"])
    # Prometheus names the scrape job after the Service: every job matcher in the rules must select it.
    job = production.one("Service", "scim-gateway")["metadata"]["name"]
    for matcher in re.findall(r'job(=~|=)"([^"]*)"', (CHART / "files" / "prometheus-rules.yaml").read_text()):
        assert re.fullmatch(matcher[1], job) if matcher[0] == "=~" else matcher[1] == job, f"{matcher} misses {job}"


def test_grafana_dashboard_configmap_is_labelled_for_the_sidecar(production):
    shipped = json.loads((CHART / "files" / "grafana-dashboard.json").read_text())
    dashboard = production.one("ConfigMap", "-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["annotations"] == {"grafana_folder": "SCIM"}
    (text,) = dashboard["data"].values()
    assert json.loads(text) == shipped


@pytest.mark.parametrize("name", ["default", "production", "bundled"])
def test_rendered_config_passes_check_config_with_the_pods_secrets(name, tmp_path: Path):
    values = {"default": {}, "production": production_values(), "bundled": BUNDLED_WITH_AUTH}[name]
    _check_config(values, tmp_path)


def test_readme_deployment_values_render_and_pass_check_config(tmp_path: Path):
    readme = (CHART.parents[1] / "README.md").read_text()
    section = readme.split("## Deploying on Kubernetes", 1)[1].split("\n## ", 1)[0]
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL) if "existingSecret" in b]
    assert len(blocks) == 2, "the install values and the directory's"
    for index, block in enumerate(blocks):
        values = yaml.safe_load(re.sub(r"<hash from scim-gateway hash-token>", "d" * 64, block))
        (tmp_path / str(index)).mkdir()
        _check_config(values, tmp_path / str(index))


def _check_config(values: dict, tmp_path: Path) -> None:
    """Render, lay out the pod's Secrets as the kubelet would (files and env), run `scim-gateway check-config`."""
    assert CLI.exists(), f"{CLI} is missing: install the project (scripts/setup)"
    rendered = render(values)
    credentials = {key: secrets.token_urlsafe(24) for key in _secret_keys(rendered, values)}
    chosen = values.get("directory", {})
    store = {
        values.get("existingSecret", ""): credentials,
        "scim-gateway-redis": {"url": "redis://redis:6379/0"},
        "auth": {"redis-password": secrets.token_hex(16)},
        chosen.get("postgresql", {}).get("existingSecret", "-"): {
            "url": f"postgresql://gateway:{secrets.token_hex(8)}@postgres.internal:5432/scim_gateway"
        },
        chosen.get("encryption", {}).get("existingSecret", "-"): {
            "directory-key": generate_key(),
            "directory-index-key": generate_key(),
        },
    }
    config_text = rendered.config_text
    for mount_path, secret_name in secret_mounts(rendered):
        directory = tmp_path / "secrets" / secret_name
        directory.mkdir(parents=True)
        for key, value in store[secret_name].items():
            (directory / key).write_text(value + "\n")
        config_text = config_text.replace(f"file:{mount_path}/", f"file:{directory}/")  # the kubelet's mount
    (tmp_path / "config.yaml").write_text(config_text)
    env = {"PATH": os.environ["PATH"], **pod_environment(rendered, store)}
    check = subprocess.run(
        [str(CLI), "check-config", str(tmp_path / "config.yaml")], capture_output=True, text=True, env=env, timeout=60
    )
    assert check.returncode == 0, check.stderr
    tenants = len(rendered.config["tenants"])
    assert check.stdout.startswith(f"ok: {tenants} tenants")
    for value in credentials.values():
        assert value not in rendered.text and value not in check.stdout + check.stderr


def test_audit_file_must_be_writable_under_a_read_only_root():
    assert "read-only root filesystem" in render_error({"config": {"observability": {"audit": {"file": "/var/a.log"}}}})
    assert render({"config": {"observability": {"audit": {"file": "/tmp/audit.jsonl"}}}}).config["observability"]


def _secret_keys(rendered: Rendered, values: dict) -> set[str]:
    """Every key of existingSecret the pod reads: mounted files the config names, and secretEnv keys."""
    keys = {item["key"] for item in values.get("secretEnv", [])}
    for tenant in rendered.config["tenants"].values():
        for app in tenant["apps"].values():
            for reference in app.get("credentials", {}).values():
                if reference.startswith("file:"):
                    keys.add(reference.rsplit("/", 1)[1])
    return keys


def test_the_pod_outlives_the_gateways_drain(default):
    """SIGTERM: preStop sleep, then the gateway drains for drainSeconds; Kubernetes kills only after both."""
    args = build_parser().parse_args(default.container["args"])
    assert args.drain_timeout == 26  # the gateway's own default with default deadlines (25 s + 1)
    assert default.deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 5 + 26 + 5
    longer = render({"drainSeconds": 56})
    assert build_parser().parse_args(longer.container["args"]).drain_timeout == 56
    assert longer.deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 5 + 56 + 5
    assert "would be killed mid-drain" in render_error({"terminationGracePeriodSeconds": 30})
