"""Smoke test of the sync benchmark: a few users through two replicas into a rate-limited Delinea (seconds).

Runs `python -m benchmarks.sync --users 12 --replicas 2 --profiles delinea`: Redis, PostgreSQL, the
simulator and two `scim-gateway serve` processes start, the Entra-shaped client provisions every user,
and the report counts what each IdP operation cost at the vendor (a dozen users are too few to judge
the goals: the exit status is not asserted, every figure is).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.processes import REPO_ROOT


def test_every_user_is_provisioned_and_every_vendor_call_is_accounted_for(tmp_path: Path) -> None:
    output = tmp_path / "sync.json"
    command = [sys.executable, "-m", "benchmarks.sync", "--users", "12", "--replicas", "2", "--workers", "4"]
    command += ["--rate", "50", "--alone", "1", "--profiles", "delinea", "--output", str(output)]

    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, check=False)

    assert done.returncode in (0, 2), done.stderr[-3000:]
    result = json.loads(output.read_text())["profiles"]["delinea"]
    assert result["users_given_up"] == 0 and result["idp_failures"] == {}
    operations = result["operations"]
    assert [operations[op]["requests"] for op in ("lookup", "create", "patch")] == [12, 12, 12]
    assert operations["lookup"]["vendor_calls_per_request"] == 1.0  # Delinea filters userName itself
    assert operations["create"]["vendor_calls_per_request"] == 1.0
    assert result["vendor_calls_by_status"].get("POST 201") == 12
    assert "| delinea |" in done.stdout
