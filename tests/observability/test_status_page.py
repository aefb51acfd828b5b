"""The operator status page: protected, never echoes the token, renders in a real headless Chromium (issue 5)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from gateway.demo import DEMO_TOKENS
from tests.observability.helpers import OPERATOR_TOKEN, demo_gateway, require_binary, scim_client
from tests.observability.png import read_png

WIDTH, HEIGHT = 1280, 1000
BROWSER_TIMEOUT = 90.0


async def test_status_page_requires_an_operator_token() -> None:
    async with demo_gateway() as demo, httpx.AsyncClient() as client:
        url = demo.gateway.url + "/status"
        anonymous = await client.get(url)
        assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        assert '<form method="post"' in anonymous.text and "tenant acme" not in anonymous.text
        for bad in ("wrong", DEMO_TOKENS["acme"]):  # a tenant's SCIM token is not an operator token
            assert (await client.get(url, headers={"Authorization": f"Bearer {bad}"})).status_code == 401
            assert (await client.get(url, params={"token": bad})).status_code == 401
        pages = [
            await client.get(url, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}),
            await client.get(url, params={"token": OPERATOR_TOKEN}),
            await client.post(url, data={"token": OPERATOR_TOKEN}),
        ]
        for page in [*pages, anonymous]:
            assert page.headers["Cache-Control"] == "no-store"
            assert page.headers["Referrer-Policy"] == "no-referrer"
            assert page.headers["Content-Type"].startswith("text/html")
            assert OPERATOR_TOKEN not in page.text
        for page in pages:
            assert page.status_code == 200
            assert "tenant acme" in page.text and "tenant globex" in page.text
            for tenant_name, tenant in demo.config.tenants.items():
                for app_name in tenant.apps:
                    assert f"<td>{app_name}</td>" in page.text, (tenant_name, app_name)
            assert "http://" not in page.text and "https://" not in page.text, "no external assets"


async def test_status_page_shows_health_rates_and_token_expiry() -> None:
    async with demo_gateway({"health_check_interval": 0.2}) as demo, scim_client() as client:
        spekit = demo.simulator_url("spekit", "acme")
        await client.post(f"{spekit}/_sim/faults", json={"status": 503, "times": -1})
        for _ in range(5):
            await client.get(demo.scim_url("acme", "invicti") + "/Users")
        page = ""
        for _ in range(100):  # bounded: the background check sees spekit down within a few intervals
            operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
            page = (await client.get(demo.gateway.url + "/status", headers=operator)).text
            if "down" in page:
                break
            await asyncio.sleep(0.1)
        assert (await client.get(demo.gateway.url + "/readyz")).status_code == 200, "a vendor down keeps us ready"
    spekit_row = page.split("<tr><td>spekit</td>")[1].split("</tr>")[0]
    assert "down" in spekit_row and "HTTP 503" in spekit_row
    invicti_row = page.split("<tr><td>invicti</td>")[1].split("</tr>")[0]
    assert ">up<" in invicti_row and "static credential" in invicti_row
    assert "0.00" not in invicti_row.split("</td>")[3], "invicti's request rate is not zero after traffic"
    if "delinea" in demo.config.tenants["acme"].apps:  # the OAuth app (issue 3)
        delinea_row = page.split("<tr><td>delinea</td>")[1].split("</tr>")[0]
        assert "expires in" in delinea_row


async def test_status_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    chromium = require_binary("chromium")
    screenshot = tmp_path / "status.png"
    async with demo_gateway() as demo, scim_client() as client:
        for tenant in ("acme", "globex"):
            async with scim_client(tenant) as tenant_client:
                await tenant_client.get(demo.scim_url(tenant, "invicti") + "/Users")
        await client.get(demo.scim_url("acme", "invicti") + "/Users", headers={"Authorization": "Bearer wrong"})
        url = f"{demo.gateway.url}/status?token={OPERATOR_TOKEN}"
        common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={WIDTH},{HEIGHT}",
        ]  # fmt: skip
        shot = await asyncio.create_subprocess_exec(
            chromium, *common, f"--screenshot={screenshot}", url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await asyncio.wait_for(shot.communicate(), BROWSER_TIMEOUT)
        dom = await asyncio.create_subprocess_exec(
            chromium, *common, "--dump-dom", url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        rendered, _ = await asyncio.wait_for(dom.communicate(), BROWSER_TIMEOUT)
    text = rendered.decode()
    assert "scim-gateway status" in text and "tenant acme" in text and "tenant globex" in text, text[:500]
    assert OPERATOR_TOKEN not in text
    image = read_png(screenshot.read_bytes())
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    assert image.luminance_variance() > 500, "the screenshot is not blank"
    assert image.distinct_colours() > 20, "badges, header and text render in several colours"
    # Header band is dark (#1d2b3a), the page below it light (#f4f6f8): the stylesheet was applied.
    header_pixel = image.rows[5][5 * image.channels : 5 * image.channels + 3]
    body_pixel = image.rows[HEIGHT - 5][5 * image.channels : 5 * image.channels + 3]
    assert sum(header_pixel) < 200 < 600 < sum(body_pixel), (header_pixel, body_pixel)
