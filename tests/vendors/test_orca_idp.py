"""Okta's and Entra ID's provisioning sequences (tests/idp_traffic.py) replayed through acme/orca (Orca REST).

The sequences as sent on the wire, adapted only where Orca's model differs,
and each adaptation says why: group push targets an existing Orca role (an
extra, empty `Auditor` role here, so the expected member sets are exact);
creating, renaming and deleting a group are refused (roles are fixed, so
later steps keep the role's name); the
attributes Orca does not hold (name parts, nickName, enterprise attributes,
a work email other than the userName, addresses) are not expected back.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import idp_runner
from tests.idp_traffic import ENTERPRISE, ENTRA_SEQUENCE, OKTA_SEQUENCE
from tests.vendors.orca_env import TOKEN, orca_env

ROLE = "Auditor"
ROLES = ("Admin", "Viewer", ROLE)
NOT_HELD = ("name.", "nickName", ENTERPRISE, "emails[", "addresses[")
REFUSED = {
    "create_group": 501,
    "create_group_duplicate": 501,
    "delete_group": 501,
    "group_rename": 400,
    "rename_patch": 400,
}


def orca_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    adapted = []
    for step in steps:
        step = dict(step)
        if "lookup_group_not_found" in step["name"]:
            continue  # the role group exists before any push
        refused = next((status for suffix, status in REFUSED.items() if step["name"].endswith(suffix)), None)
        if refused is not None:
            step.update(expect_status=refused, capture=None, expect_body=None)
        else:
            step = _unrenamed(step)
        if refused is None and step.get("expect_body"):
            kept = {k: v for k, v in step["expect_body"].items() if not k.startswith(NOT_HELD)}
            step["expect_body"] = kept or None
        adapted.append(step)
    return adapted


def _unrenamed(step: dict[str, Any]) -> dict[str, Any]:
    """The rename was refused, so later steps name the group as it still is."""

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("{groupName}-renamed", "{groupName}")
        if isinstance(value, list):
            return [fix(item) for item in value]
        if isinstance(value, dict):
            return {key: fix(item) for key, item in value.items()}
        return value

    return {**step, "body": fix(step.get("body")), "expect_body": fix(step.get("expect_body"))}


@pytest.mark.parametrize("sequence", [OKTA_SEQUENCE, ENTRA_SEQUENCE], ids=["okta", "entra"])
async def test_idp_sequence_through_acme_orca(sequence: list[dict[str, Any]]) -> None:
    async with orca_env(options={"roles": list(ROLES)}, roles=ROLES) as env:
        run = idp_runner.Replay.fresh(TOKEN, domain="acme.example")
        run.values.update({"{groupName}": ROLE, "{groupId}": ROLE})
        await idp_runner.replay(env.scim, str(env.scim.base_url), orca_steps(sequence), run)

        assert {entry["auth_scheme"] for entry in env.requests()} == {"Token"}
        stored = [user for user in await env.rest_users() if user["email"] == run.values["{userName}"]]
        if sequence is ENTRA_SEQUENCE:
            assert stored == []  # deleted at the end, permanently (delete_mode: delete)
        else:
            # Okta's last group PUT emptied the role (the user fell back to the default role), then deactivated it.
            assert stored[0]["status"] == "inactive" and stored[0]["role"] == "Viewer"
