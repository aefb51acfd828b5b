"""gateway/outbound/vendor_text.py: what is removed from vendor text, and what is kept because it helps."""

from __future__ import annotations

from urllib.parse import quote

from gateway.outbound.vendor_text import EXCERPT_LIMIT, scrub

SECRET = "Correct Horse/Battery+Staple"


def test_the_apps_own_secret_is_removed_as_given_and_url_encoded() -> None:
    text = scrub(f"client secret {SECRET} (form: client_secret%3D{quote(SECRET, safe='')})", [SECRET])
    assert "Horse" not in text and "Battery" not in text


def test_token_shapes_are_removed() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    shapes = [
        ("Authorization: Bearer abcDEF123456ghi", "abcDEF123456ghi"),
        ("Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        (f"id_token {jwt}", jwt),
        ('{"api_key": "k-1"} secret=s password: "p"', "k-1"),
        ("signature 0123456789abcdef0123456789abcdef", "0123456789abcdef"),
        ("ref QWxhZGRpbjpvcGVuIHNlc2FtZQ2==", "QWxhZGRpbjpvcGVuIHNlc2FtZQ2"),
    ]
    for text, secret in shapes:
        assert secret not in scrub(text), text
    assert "=s " not in scrub("secret=s password: p") and ": p" not in scrub("secret=s password: p")


def test_urls_addresses_and_internal_hosts_are_replaced() -> None:
    text = scrub(
        "see https://ops:pw@db.corp.internal:8443/x?key=1, 10.1.2.3:5432, [fd00::5]:443, ldap01.prod.svc and fe80::1"
    )
    assert text == "see [url], [address], [address]:443, [host] and [address]"


def test_what_helps_the_reader_is_kept() -> None:
    text = "userName 'ann@example.com' exists (id 2819c223-7f76-453a-919d-413861904646) since 12:30:45; Token expired"
    assert scrub(text) == text


def test_the_excerpt_is_one_bounded_line() -> None:
    text = scrub("line one\nline two\t" + "word " * 100)
    assert "\n" not in text and "\t" not in text
    assert len(text) == EXCERPT_LIMIT and text.endswith("…")


def test_a_secret_cut_by_the_input_bound_leaves_no_part_behind() -> None:
    for offset in range(0, len(SECRET) + 2):
        text = scrub("x" * (4096 - offset) + SECRET + " tail", [SECRET], limit=10_000)
        assert not any(SECRET[:n] in text for n in range(4, len(SECRET) + 1)), offset
