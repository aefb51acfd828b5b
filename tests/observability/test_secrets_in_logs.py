"""No secret, token or password in any log line of a real `scim-gateway serve` process (issue 5)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import httpx
import orjson
import yaml

from gateway.config import GatewayConfig, parse_config, secret_values
from gateway.demo import DEMO_TOKENS, start_simulators
from tests.observability.helpers import OPERATOR_TOKEN, demo_raw_config
from tests.processes import gateway_process

SCIM_JSON = {"Content-Type": "application/scim+json"}


def user_with_password(user_name: str, password: str) -> bytes:
    return orjson.dumps(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "password": password,
            "name": {"givenName": "Pat", "familyName": "Secret"},
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            "active": True,
        }
    )


def mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<SECRET>")
    return text


async def provision_with_passwords(url: str, config: GatewayConfig, passwords: list[str]) -> int:
    """Create (twice) and re-password a user through every app; every secret tried as a token. Returns creates."""
    created = 0
    async with httpx.AsyncClient(timeout=20.0) as client:
        for tenant_name, tenant in config.tenants.items():
            auth = {"Authorization": f"Bearer {DEMO_TOKENS[tenant_name]}"}
            for app_name in tenant.apps:
                base = f"{url}/tenants/{tenant_name}/apps/{app_name}/scim/v2/Users"
                password = f"Pw-{uuid.uuid4().hex}!"
                passwords.append(password)
                body = user_with_password(f"secret-{app_name}@{tenant_name}.test", password)
                response = await client.post(base, content=body, headers={**auth, **SCIM_JSON})
                created += response.status_code == 201
                # The same again: a conflict (or whatever the vendor says) with the password in it.
                await client.post(base, content=body, headers={**auth, **SCIM_JSON})
                if response.status_code == 201:
                    patch = {
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "password", "value": password + "2"}],
                    }
                    passwords.append(password + "2")
                    item = f"{base}/{response.json()['id']}"
                    await client.patch(item, content=orjson.dumps(patch), headers={**auth, **SCIM_JSON})
        # Every secret of the config presented as an inbound token: refused, and never logged.
        for secret in secret_values(config):
            await client.get(f"{url}/tenants/acme/apps/invicti/scim/v2/Users",
                             headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
        await client.get(f"{url}/status", params={"token": OPERATOR_TOKEN})
        await client.get(f"{url}/status", headers={"Authorization": f"Bearer {DEMO_TOKENS['acme']}"})
    return created


async def test_no_secret_token_or_password_in_any_log_line(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.jsonl"
    passwords: list[str] = []
    failure: Exception | None = None
    async with start_simulators():
        raw = demo_raw_config()
        observability = {"audit": {"file": str(audit_file)}, "metrics_port": 0}  # 0: not the demo's 9464
        raw["observability"] = {**raw.get("observability", {}), **observability}
        config_file = tmp_path / "gateway.yaml"
        config_file.write_text(yaml.safe_dump(raw))
        config = parse_config(raw)  # the same file, resolved here to learn its secrets
        async with gateway_process(config_file, log_level="DEBUG", capture=True) as gateway:
            process = gateway.process
            output = asyncio.gather(process.stdout.read(), process.stderr.read())  # type: ignore[union-attr]
            try:
                created = await provision_with_passwords(gateway.url, config, passwords)
                assert created >= 4, "users with passwords were provisioned through the demo's apps"
            except Exception as exc:
                failure = exc
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(output, 30)
    logs = {"stdout": stdout.decode(), "stderr": stderr.decode(), "audit": audit_file.read_text()}
    if failure is not None:  # show what the gateway said, secrets masked
        tail = mask(logs["stderr"][-2000:] + logs["stdout"][-2000:], secret_values(config))
        raise AssertionError(f"{failure!r}; gateway output (tail): {tail}") from failure
    assert '"event":"app_health"' in logs["stdout"], "the gateway's own log lines were captured"
    assert logs["audit"].count('"event":"audit"') >= 3 * created, "the audit lines were captured"
    secrets = [*secret_values(config), *DEMO_TOKENS.values(), OPERATOR_TOKEN, *passwords]
    assert len(secret_values(config)) >= len(config.tenants), "the config's secrets were found"
    for source, text in logs.items():
        for line in text.splitlines():
            leaked = [secret for secret in secrets if secret in line]
            assert not leaked, f"{source} line leaks {len(leaked)} secret(s): {mask(line, leaked)[:300]}"
