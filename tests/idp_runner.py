"""Replay an IdP provisioning sequence (tests/idp_traffic.py) against a SCIM base URL and check each answer.

Placeholders are filled per run (unique userName, externalId, group name) or
captured from earlier answers; values put into a query string are
percent-encoded the way the IdP sends them. `expect_body` keys follow the
catalogue's convention (dotted sub-attributes, URN-prefixed extension
attributes, `attr[sub eq "v"].sub` value filters, `members` as a set of ids).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

THROTTLED_RETRIES = 10
_FILTERED = re.compile(r'^(?P<attr>\w+)\[(?P<sub>\w+) eq "(?P<value>[^"]*)"\]\.(?P<leaf>\w+)$')


@dataclass
class Replay:
    """One run of a sequence: the values the placeholders stand for, and what each step answered."""

    values: dict[str, str]
    answers: dict[str, httpx.Response] = field(default_factory=dict)

    @classmethod
    def fresh(cls, token: str, domain: str = "idp.example") -> Replay:
        run = uuid.uuid4().hex[:10]
        return cls(
            values={
                "{userName}": f"user.{run}@{domain}",
                "{externalId}": f"00u{run}",
                "{groupName}": f"group-{run}",
                "{token}": token,
            }
        )

    def fill(self, value: Any, *, in_query: bool = False) -> Any:
        """`value` with every known placeholder replaced (strings, lists and dicts, recursively)."""
        if isinstance(value, str):
            for placeholder, actual in self.values.items():
                value = value.replace(placeholder, quote(actual, safe="") if in_query else actual)
            return value
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {self.fill(key): self.fill(item) for key, item in value.items()}
        return value

    def path(self, raw: str) -> str:
        route, mark, query = raw.partition("?")
        return self.fill(route) + mark + self.fill(query, in_query=True)


async def replay(client: httpx.AsyncClient, base_url: str, steps: list[dict[str, Any]], run: Replay) -> None:
    """Send every step in order; raises AssertionError naming the step that did not answer as expected."""
    for step in steps:
        headers = {**run.fill(step.get("headers") or {}), "Authorization": f"Bearer {run.values['{token}']}"}
        body = step.get("body")
        url = base_url + run.path(step["path"])
        content = None if body is None else httpx.Request("POST", url, json=run.fill(body)).content
        response = await _send(client, step["method"], url, headers, content)
        run.answers[step["name"]] = response
        allowed = step["expect_status"] if isinstance(step["expect_status"], tuple) else (step["expect_status"],)
        assert response.status_code in allowed, f"{step['name']}: HTTP {response.status_code}: {response.text[:500]}"
        if response.status_code >= 400:
            assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], step["name"]
            continue
        for placeholder, attribute in (step.get("capture") or {}).items():
            run.values["{" + placeholder + "}"] = response.json()[attribute]
        expected = step.get("expect_body")
        if expected:
            document = response.json() if response.status_code != 204 else await _reread(client, url, headers)
            for key, value in run.fill(expected).items():
                got = read(document, key)
                if key == "members":
                    got, value = sorted(got), sorted(value)
                assert got == value, f"{step['name']}: {key} is {got!r}, expected {value!r}"


async def _send(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], content: bytes | None
) -> httpx.Response:
    """Send as the IdPs do: a 429 is retried after its Retry-After, a few times."""
    for _ in range(THROTTLED_RETRIES):
        response = await client.request(method, url, headers=headers, content=content)
        if response.status_code != 429:
            return response
        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    return response


async def _reread(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    response = await _send(client, "GET", url, {"Authorization": headers["Authorization"]}, None)
    assert response.status_code == 200, response.text
    return response.json()


def read(document: dict[str, Any], key: str) -> Any:
    """The value `key` names in a SCIM JSON document (None when absent), per the catalogue's convention."""
    if key == "members":
        return [member["value"] for member in document.get("members") or []]
    if key.lower().startswith("urn:"):
        urn, _, attribute = key.rpartition(":")
        return _dotted(_get(document, urn), attribute)
    return _dotted(document, key)


def _dotted(node: Any, key: str) -> Any:
    match = _FILTERED.match(key)
    if match:
        entries = _get(node, match["attr"]) or []
        chosen = [entry for entry in entries if str(_get(entry, match["sub"])) == match["value"]]
        return _get(chosen[0], match["leaf"]) if chosen else None
    for part in key.split("."):
        node = _get(node, part)
    return node


def _get(node: Any, name: str) -> Any:
    """Case-insensitive attribute lookup (RFC 7643 section 2.1)."""
    if not isinstance(node, dict):
        return None
    return next((value for attr, value in node.items() if attr.lower() == name.lower()), None)
