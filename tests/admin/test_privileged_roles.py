"""Connectors' privileged roles name roles their vendor really has (as its simulator, faithful to its docs, holds)."""

from __future__ import annotations

from vendors.registry import connector_class, vendor_kinds
from vendors.simulators import delinea_rest, orca_rest


def test_declared_privileged_roles_exist_at_the_vendor() -> None:
    assert connector_class("orca").privileged_roles <= set(orca_rest.ROLES)
    assert connector_class("orca-scim").privileged_roles == connector_class("orca").privileged_roles
    assert connector_class("delinea").privileged_roles <= set(delinea_rest.ROLES)
    assert connector_class("delinea-scim").privileged_roles == connector_class("delinea").privileged_roles
    assert (
        "User" not in connector_class("delinea").privileged_roles
        and "Viewer" not in connector_class("orca").privileged_roles
    )


def test_every_connector_declares_a_set_of_names() -> None:
    for kind in vendor_kinds():
        roles = connector_class(kind).privileged_roles
        assert isinstance(roles, frozenset) and all(isinstance(role, str) and role for role in roles), kind
    assert connector_class("darktrace").privileged_roles == frozenset()  # no user API: nothing to flag
