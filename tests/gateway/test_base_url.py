"""The SCIM root in meta.location follows each request's Host (or the configured public URL), memo or not."""

from __future__ import annotations

from types import SimpleNamespace

from starlette.requests import Request

from gateway import orchestrator
from gateway.orchestrator import _base_url


def _request(host: str, scheme: str = "http") -> Request:
    return Request({
        "type": "http", "method": "GET", "scheme": scheme, "server": ("10.0.0.5", 8000), "root_path": "",
        "path": "/tenants/acme/apps/invicti/scim/v2/Users", "query_string": b"",
        "headers": [(b"host", host.encode())], "path_params": {"tenant": "acme", "app": "invicti"},
    })  # fmt: skip


def _runtime(public_url: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(public_url=public_url))


def test_each_host_and_scheme_gets_its_own_root_every_time() -> None:
    for _ in range(2):  # built, then memoised
        assert _base_url(_request("gw.example"), _runtime()) == "http://gw.example/tenants/acme/apps/invicti/scim/v2"
        assert _base_url(_request("other:8443", "https"), _runtime()) == (
            "https://other:8443/tenants/acme/apps/invicti/scim/v2"
        )


def test_the_public_url_wins_over_the_host() -> None:
    runtime = _runtime("https://scim.example.com/")
    assert _base_url(_request("internal:8000"), runtime) == "https://scim.example.com/tenants/acme/apps/invicti/scim/v2"


def test_the_memo_stays_bounded_and_skips_absurd_hosts() -> None:
    orchestrator._BASES.clear()
    long_host = "h" * 5000
    assert _base_url(_request(long_host), _runtime()).startswith(f"http://{long_host}/tenants/")
    assert orchestrator._BASES == {}
    for index in range(orchestrator.MAX_MEMOISED_BASES + 10):
        _base_url(_request(f"h{index}.example"), _runtime())
    assert len(orchestrator._BASES) <= orchestrator.MAX_MEMOISED_BASES
