"""The first pass of in-gateway filtering never drops a resource the real filter matches (gateway/scim/prefilter.py)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from gateway.scim import query as list_query
from gateway.scim.models import DEFAULT_SCHEMAS, parse_response
from gateway.scim.prefilter import first_pass
from vendors.base import Kind

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CAFE = "café@example.com"
RESOURCES: list[dict[str, Any]] = [
    {"schemas": [USER], "id": "1", "userName": "bjensen@example.com", "externalId": "X1", "active": True},
    {"schemas": [USER], "id": "2", "userName": "BJensen@Example.COM", "displayName": "Babs", "active": False},
    {"schemas": [USER], "id": "3", "userName": unicodedata.normalize("NFD", CAFE), "active": True},
    {"schemas": [USER], "id": "4", "userName": "other@example.com", "externalId": "x1"},
    {"schemas": [USER], "id": "5", "userName": "STRASSE@example.com"},
    {"schemas": [USER], "id": "6", "displayName": "no userName"},
]


def _filter(text: str) -> Any:
    model = DEFAULT_SCHEMAS[Kind.USER]
    return list_query.from_search_body(model, {"filter": text}, 100).filter


def _matching(text: str, with_first_pass: bool) -> list[str]:
    scim_filter = _filter(text)
    test = first_pass(scim_filter) if with_first_pass else None
    model = DEFAULT_SCHEMAS[Kind.USER]
    return [r["id"] for r in RESOURCES if (test is None or test(r)) and scim_filter.match(parse_response(model, r))]


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "bjensen@example.com"',
        'USERNAME eq "BJENSEN@EXAMPLE.COM"',
        f'userName eq "{unicodedata.normalize("NFC", CAFE)}"',
        'userName eq "strasse@example.com"',
        'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.com"',
        'userName eq "bjensen@example.com" and active eq true',
        'externalId eq "X1"',
        'id eq "4"',
        'displayName eq "babs"',
        'userName eq "nobody@example.com"',
        'userName eq "bjensen@example.com" or id eq "4"',
        'userName sw "bj"',
    ],
)
def test_first_pass_keeps_every_match(text: str) -> None:
    assert _matching(text, with_first_pass=True) == _matching(text, with_first_pass=False)


def test_first_pass_rules_out_other_user_names_without_validating_them() -> None:
    test = first_pass(_filter('userName eq "bjensen@example.com"'))
    assert test is not None
    assert [r["id"] for r in RESOURCES if test(r)] == ["1", "2"]


def test_no_first_pass_where_none_is_cheap_and_safe() -> None:
    for text in ('userName sw "bj"', 'userName eq "a" or id eq "4"', 'emails.value eq "a@b.c"', "active eq true"):
        assert first_pass(_filter(text)) is None, text
