"""Okta's and Entra ID's provisioning sequences, replayed through the gateway to every SCIM-speaking app.

Lookup, create, duplicate create (409), update (PUT and every documented
PATCH shape), deactivate and reactivate, group push (create, members added
and removed in each IdP's way, rename), delete: as the IdPs send them on the
wire (tests/idp_traffic.py cites the source of each request).
"""

from __future__ import annotations

import httpx
import pytest

from gateway.demo import DEMO_TOKENS, DemoEnvironment
from tests.idp_runner import Replay, replay
from tests.idp_traffic import ENTRA_SEQUENCE, OKTA_SEQUENCE

SEQUENCES = {"okta": OKTA_SEQUENCE, "entra": ENTRA_SEQUENCE}
ACME_APPS = ("orca-scim", "delinea-scim", "invicti", "spekit")
# globex is throttled to 5 requests/s in the demo: one sequence each, retried after 429 as the IdPs do.
CASES = [("acme", app, idp) for app in ACME_APPS for idp in SEQUENCES]
CASES += [("globex", "invicti", "okta"), ("globex", "spekit", "entra")]

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize(("tenant", "app", "idp"), CASES, ids=[f"{t}/{a}-{i}" for t, a, i in CASES])
async def test_idp_sequence_passes_end_to_end(
    demo: DemoEnvironment, client: httpx.AsyncClient, tenant: str, app: str, idp: str
) -> None:
    run = Replay.fresh(DEMO_TOKENS[tenant], domain=f"{tenant}.example")
    await replay(client, demo.scim_url(tenant, app), SEQUENCES[idp], run)
    assert run.answers, "the sequence sent nothing"
