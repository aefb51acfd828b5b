"""The chart's directory: PostgreSQL by Secret for any number of pods, or SQLite on a volume for one (issue 17)."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest

from tests.deploy.chart import merged, pod_environment, production_values, render, render_error, secret_mounts
from tests.deploy.test_helm_chart import KUBE_MINIMUM, _check_config

KEYS = {"encryption": {"existingSecret": "directory-keys"}}
SQLITE = {"directory": {"enabled": True, "backend": "sqlite", **KEYS}}
POSTGRESQL = {"directory": {"enabled": True, "postgresql": {"existingSecret": "directory-db"}, **KEYS}}


def test_postgresql_url_comes_from_its_secret_and_the_keys_from_mounted_files():
    rendered = render(merged(POSTGRESQL, {"replicaCount": 3, "redis": {"bundled": {"enabled": True}}}))
    directory = rendered.config["directory"]
    assert directory["url"] == "env:SCIM_GATEWAY_DIRECTORY_URL"
    url = "postgresql://gateway:pw@db:5432/scim"
    env = pod_environment(rendered, {"directory-db": {"url": url}})
    assert env["SCIM_GATEWAY_DIRECTORY_URL"] == url and url not in rendered.text
    assert ("/var/run/secrets/scim-gateway-directory", "directory-keys") in list(secret_mounts(rendered))
    assert directory["encryption"] == {
        "keys": ["file:/var/run/secrets/scim-gateway-directory/directory-key"],
        "index_key": "file:/var/run/secrets/scim-gateway-directory/directory-index-key",
    }
    assert rendered.deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert not rendered.all("PersistentVolumeClaim")
    egress = rendered.one("NetworkPolicy", "scim-gateway")["spec"]["egress"]
    assert {"ports": [{"port": 5432, "protocol": "TCP"}]} in egress


def test_rotated_keys_render_in_order_and_pool_options_reach_the_config():
    values = merged(POSTGRESQL, {"directory": {"encryption": {"keys": ["key-2026", "key-2025"]}, "poolSize": 12}})
    directory = render(values).config["directory"]
    assert [key.rsplit("/", 1)[1] for key in directory["encryption"]["keys"]] == ["key-2026", "key-2025"]
    assert (directory["pool_size"], directory["pool_timeout"], directory["migrate_on_start"]) == (12, 5, True)


def test_sqlite_lives_on_a_kept_claim_mounted_writable_and_the_pod_is_replaced_not_rolled():
    rendered = render(merged(SQLITE, {"directory": {"sqlite": {"size": "5Gi", "storageClassName": "fast"}}}))
    assert rendered.config["directory"]["url"] == "/var/lib/scim-gateway/directory.db"
    claim = rendered.one("PersistentVolumeClaim")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "fast",
        "resources": {"requests": {"storage": "5Gi"}},
    }
    pod = rendered.deployment["spec"]["template"]["spec"]
    volume = next(volume for volume in pod["volumes"] if "persistentVolumeClaim" in volume)
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    mount = next(mount for mount in rendered.container["volumeMounts"] if mount["name"] == volume["name"])
    assert mount["mountPath"] == "/var/lib/scim-gateway" and not mount.get("readOnly")
    assert rendered.deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"], "the volume is writable"
    for manifest in rendered.manifests:
        kubernetes_validate.validate(manifest, KUBE_MINIMUM, strict=True)
    existing = render(merged(SQLITE, {"directory": {"sqlite": {"existingClaim": "my-claim"}}}))
    assert not existing.all("PersistentVolumeClaim")
    volumes = existing.deployment["spec"]["template"]["spec"]["volumes"]
    assert {"name": "directory", "persistentVolumeClaim": {"claimName": "my-claim"}} in volumes


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"replicaCount": 2}, "replicaCount is 2"),
        ({"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 3}}, "autoscaling.maxReplicas is 3"),
    ],
)
def test_sqlite_with_more_than_one_pod_refuses_to_render(values, reason):
    message = render_error(merged(SQLITE, {**values, "redis": {"bundled": {"enabled": True}}}))
    assert "directory.backend sqlite keeps the directory in one pod's file" in message
    assert reason in message and "use directory.backend postgresql" in message
    # One pod, even through an HPA pinned to one, renders.
    assert render(merged(SQLITE, {"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 1},
                                  "throttle": {"allowPerProcessLimits": True}}))  # fmt: skip


def test_a_directory_without_its_secrets_or_written_by_hand_refuses_to_render():
    assert "directory.encryption.existingSecret" in render_error({"directory": {"enabled": True}})
    assert "directory.postgresql.existingSecret" in render_error({"directory": {"enabled": True, **KEYS}})
    hand_written = {"config": {"directory": {"url": "/data/directory.db"}}}
    assert "config.directory is rendered by the chart" in render_error(hand_written)
    assert "backend" in render_error({"directory": {"enabled": True, "backend": "mysql"}})


def test_disabled_by_default_every_app_is_a_pass_through():
    rendered = render()
    assert "directory" not in rendered.config
    assert not rendered.all("PersistentVolumeClaim")
    assert [mount for mount, _ in secret_mounts(rendered)] == []


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
def test_rendered_directory_config_passes_check_config_with_the_pods_secrets(name, tmp_path: Path):
    values = SQLITE if name == "sqlite" else merged(production_values(), {"directory": POSTGRESQL["directory"]})
    orca = {
        "vendor": "orca",
        "base_url": "https://api.orca.example/api",
        "credentials": {"token": "file:/var/run/secrets/scim-gateway/orca-token"},
        "directory": "full",
    }
    tenant = {"tokens": [{"name": "okta", "sha256": "e" * 64}], "apps": {"orca": orca}}
    values = merged(values, {"existingSecret": "scim-gateway-credentials", "config": {"tenants": {"acme": tenant}}})
    _check_config(values, tmp_path)
