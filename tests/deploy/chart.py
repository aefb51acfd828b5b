"""Render and lint the Helm chart offline with helm-python-sdk (Helm 4 compiled as a library), and
stand in for the kubelet where the tests need a pod's view: its env and its mounted files.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "scim-gateway"
PRODUCTION = Path(__file__).with_name("values-production.yaml")
RELEASE, NAMESPACE = "scim", "identity"
KUBE_VERSION = "v1.30.0"


def production_values() -> dict[str, Any]:
    return yaml.safe_load(PRODUCTION.read_text())


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `override` into a copy of `base` (maps merge, everything else replaces), like `-f a -f b`."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


class Rendered:
    """The manifests of one render, parsed; NOTES.txt kept as text."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.notes = next((text for name, text in files.items() if name.endswith("NOTES.txt")), "")
        self.manifests = [
            doc for name, text in files.items() if name.endswith(".yaml") for doc in yaml.safe_load_all(text) if doc
        ]

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [doc for doc in self.manifests if doc["kind"] == kind]

    def one(self, kind: str, name_suffix: str = "") -> dict[str, Any]:
        found = [doc for doc in self.all(kind) if doc["metadata"]["name"].endswith(name_suffix)]
        names = [doc["metadata"]["name"] for doc in found]
        assert len(found) == 1, f"expected one {kind} named *{name_suffix}, got {names}"
        return found[0]

    @property
    def text(self) -> str:
        return "\n".join(self.files.values())

    @property
    def deployment(self) -> dict[str, Any]:
        return self.one("Deployment", "scim-gateway")

    @property
    def container(self) -> dict[str, Any]:
        (container,) = self.deployment["spec"]["template"]["spec"]["containers"]
        return container

    @property
    def config_text(self) -> str:
        return self.one("ConfigMap", "scim-gateway")["data"]["config.yaml"]

    @property
    def config(self) -> dict[str, Any]:
        return yaml.safe_load(self.config_text)


def render(values: dict[str, Any] | None = None) -> Rendered:
    """Render like `helm install scim ./helm/scim-gateway -n identity -f values` (schema validated)."""
    with helm.Chart.load(CHART) as chart:
        return Rendered(chart.render(values=values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True))


def render_error(values: dict[str, Any]) -> str:
    """The message of a render that must fail; AssertionError if it renders."""
    try:
        render(values)
    except helm.HelmError as exc:
        return str(exc)
    raise AssertionError("the chart rendered, but should have refused these values")


def lint(values: dict[str, Any] | None = None) -> dict[str, Any]:
    return helm.lint(CHART, values or {}, strict=True, namespace=NAMESPACE, kube_version=KUBE_VERSION)


def pod_environment(rendered: Rendered, secrets: dict[str, dict[str, str]]) -> dict[str, str]:
    """The container's env as the kubelet builds it: secretKeyRef from `secrets`, $(VAR) expanded."""
    env: dict[str, str] = {}
    for item in rendered.container.get("env") or []:
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[ref["name"]][ref["key"]]
        else:
            env[item["name"]] = re.sub(
                r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), item["value"]
            )
    return env


def secret_mounts(rendered: Rendered) -> Iterator[tuple[str, str]]:
    """(mountPath, secretName) of every Secret volume the gateway container mounts."""
    spec = rendered.deployment["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    for mount in rendered.container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "secret" in volume:
            yield mount["mountPath"], volume["secret"]["secretName"]
