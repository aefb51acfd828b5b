"""The independent SCIM conformance checker (scim2-tester) finds no failure on any SCIM-speaking demo app.

scim2-tester discovers what each app announces (ServiceProviderConfig,
ResourceTypes, Schemas), then creates, reads, replaces, patches and deletes
every resource type: an app that announces what it cannot do fails here.
"""

from __future__ import annotations

import asyncio

import pytest

from gateway.demo import DEMO_TOKENS, DemoEnvironment
from tests.conformance import check, exercised, failing

APPS = [("acme", "orca-scim"), ("acme", "delinea-scim"), ("acme", "invicti"), ("acme", "spekit")]

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize(("tenant", "app"), APPS, ids=[f"{t}/{a}" for t, a in APPS])
async def test_scim2_tester_reports_no_failure(demo: DemoEnvironment, tenant: str, app: str) -> None:
    results = await asyncio.to_thread(check, demo.scim_url(tenant, app), DEMO_TOKENS[tenant])
    assert failing(results) == []
    assert exercised(results) == {"User", "Group"}
