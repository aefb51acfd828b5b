"""The one vendor list (vendors/registry.py) and everything derived from it."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.demo import placeholder_environment
from tests.connectors.contract import ConnectorContract
from vendors.base import Connector
from vendors.registry import VENDORS, connector_class, demo_accounts, simulator, simulator_names, vendor_kinds
from vendors.simulators import SIMULATORS

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_registry_imports_no_vendor_and_no_simulator() -> None:
    probe = "import sys, vendors.registry; print(sorted(m for m in sys.modules if m.startswith('vendors')))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "['vendors', 'vendors.registry']"


@pytest.mark.parametrize("kind", vendor_kinds())
def test_each_kind_loads_the_connector_that_says_it_is_that_kind(kind: str) -> None:
    cls = connector_class(kind)
    assert issubclass(cls, Connector)
    assert cls.vendor == kind


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as raised:
        connector_class("nope")
    assert raised.value.args[0] == f"unknown vendor 'nope'; expected one of: {', '.join(vendor_kinds())}"


def test_simulators_are_the_registry_s() -> None:
    assert list(SIMULATORS) == simulator_names() == sorted(VENDORS)
    assert all(re.fullmatch("[a-z0-9]+", name) for name in VENDORS), "names become DEMO_<NAME>_* variables"
    for name, spec in SIMULATORS.items():
        assert spec is simulator(name)
        module, _, cls = VENDORS[name].simulator.partition(":")
        assert type(spec) is getattr(importlib.import_module(module), cls)


def test_the_demo_runs_each_vendor_s_demo_tenants() -> None:
    expected = {(name, tenant) for name, vendor in VENDORS.items() for tenant in vendor.demo_tenants}
    assert set(demo_accounts()) == expected
    variables = placeholder_environment()
    for name, tenant in expected:
        assert f"DEMO_{name.upper()}_{tenant.upper()}_URL" in variables


def test_every_connector_kind_has_a_contract_subclass_on_its_vendor_s_simulator() -> None:
    """README "Adding a vendor": the fourth step is not optional."""
    for path in sorted((ROOT / "tests/connectors").glob("test_*.py")):
        importlib.import_module(f"tests.connectors.{path.stem}")
    suites = {cls.vendor: cls.simulator for cls in _subclasses(ConnectorContract) if "vendor" in vars(cls)}
    owners = {kind: name for name, vendor in VENDORS.items() for kind in vendor.connectors}
    assert suites == owners


def _subclasses(cls: type[ConnectorContract]) -> list[type[ConnectorContract]]:
    found: list[type[ConnectorContract]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
