"""The access review over loopback: every account of every app, streamed, checked against a roster."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from gateway.admin.review import COLUMNS
from gateway.demo import DemoEnvironment
from tests.admin.conftest import admin_url, fault, operator, provision
from vendors.simulators.seed import demo_data

pytestmark = pytest.mark.asyncio(loop_scope="module")
USER_APPS = ["orca-scim", "delinea-scim", "delinea", "invicti", "spekit", "orca"]


async def review(
    client: httpx.AsyncClient, demo: DemoEnvironment, fmt: str = "csv", roster: bytes | None = None, media: str = ""
) -> httpx.Response:
    url = admin_url(demo, "acme", "/access-review")
    headers = operator("reader") | ({"Content-Type": media} if media else {})
    if roster is None:
        return await client.get(url, params={"format": fmt}, headers=headers)
    return await client.post(url, params={"format": fmt}, content=roster, headers=headers)


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(response.text))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


async def test_every_account_of_every_app_streamed_as_csv(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    await provision(client, demo, "tara.review@acme.example")
    response = await review(client, demo)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers.get("transfer-encoding") == "chunked", "streamed, not buffered"
    rows = csv_rows(response)
    assert [row["app"] for row in rows] == sorted((row["app"] for row in rows), key=[*USER_APPS, "darktrace"].index)
    seeded = {user["userName"] for user in demo_data("acme").users}
    for app in USER_APPS:
        names = {row["userName"] for row in rows if row["app"] == app and row["kind"] == "account"}
        assert seeded | {"tara.review@acme.example"} <= names, app
    tara = [row for row in rows if row["userName"] == "tara.review@acme.example"]
    assert {row["app"] for row in tara} == set(USER_APPS)
    assert all(row["active"] == "true" and row["email"] == "tara.review@acme.example" and row["id"] for row in tara)
    assert all(row["origin"] == "" and "orphan" not in row["flags"] for row in rows), "no directory: origin unknown"
    (darktrace,) = [row for row in rows if row["app"] == "darktrace"]
    assert darktrace["kind"] == "unsupported" and "no user-management API" in darktrace["detail"]
    first = demo_data("acme").users[0]["userName"]
    admin = next(row for row in rows if row["app"] == "orca" and row["userName"] == first)
    assert admin["roles"] == "Admin" and admin["flags"] == "privileged"


async def test_json_lines_carry_the_same_columns(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    response = await review(client, demo, "jsonl")
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert all(tuple(row) == COLUMNS for row in rows)
    account = next(row for row in rows if row["kind"] == "account")
    assert isinstance(account["active"], bool) and isinstance(account["roles"], list)


async def test_a_roster_flags_who_should_not_have_access(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    for name in ("uma.kept@acme.example", "victor.left@acme.example", "wendy.unknown@acme.example"):
        await provision(client, demo, name)
    seeded = [user["userName"] for user in demo_data("acme").users]
    roster_csv = "userName,active\n" + "".join(f"{name},true\n" for name in seeded)
    roster_csv += "UMA.KEPT@acme.example,true\nvictor.left@acme.example,false\n"
    roster_json = [*seeded, "uma.kept@acme.example", {"userName": "victor.left@acme.example", "active": False}]
    answers = [
        await review(client, demo, roster=roster_csv.encode(), media="text/csv"),
        await review(client, demo, roster=json.dumps(roster_json).encode(), media="application/json"),
    ]
    for response in answers:
        assert response.status_code == 200, response.text
        flags = {(row["app"], row["userName"]): row["flags"].split(";") for row in csv_rows(response)}
        for app in USER_APPS:
            assert flags[(app, "uma.kept@acme.example")] == [""]
            assert flags[(app, "victor.left@acme.example")] == ["inactive_in_roster"]
            assert flags[(app, "wendy.unknown@acme.example")] == ["not_in_roster"]
        assert flags[("orca", seeded[0])] == ["privileged"]


async def test_an_inactive_account_is_not_flagged_against_the_roster(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    await provision(client, demo, "xena.gone@acme.example")
    body = {"userName": "xena.gone@acme.example", "apps": ["spekit"]}
    url = admin_url(demo, "acme", "/people/offboard")
    assert (await client.post(url, json=body, headers=operator("demo"))).status_code == 200
    rows = csv_rows(await review(client, demo, roster=b"someone.else@acme.example\n"))
    xena = {row["app"]: row for row in rows if row["userName"] == "xena.gone@acme.example"}
    assert xena["spekit"]["active"] == "false" and xena["spekit"]["flags"] == ""
    assert xena["invicti"]["flags"] == "not_in_roster"


async def test_a_failing_app_is_a_row_not_a_gap(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    async with fault(client, demo, "invicti", "acme", {"status": 503, "method": "GET", "times": -1}):
        response = await review(client, demo, "jsonl")
    assert response.status_code == 200
    rows = [json.loads(line) for line in response.text.splitlines()]
    (invicti,) = [row for row in rows if row["app"] == "invicti"]
    assert invicti["kind"] == "error" and "503" in invicti["detail"] and invicti["id"] is None
    assert {row["app"] for row in rows} == {*USER_APPS, "darktrace"}


@pytest.mark.parametrize(
    ("roster", "media", "status"),
    [
        (b"", "text/csv", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"userName": "a"}', "application/json", 400),
        (b"userName,active\na@b.example,maybe\n", "text/csv", 400),
        (b"x" * (8 * 1024 * 1024 + 1), "text/csv", 413),
    ],
    ids=["empty", "numbers", "object", "bad-active", "too-large"],
)
async def test_a_bad_roster_is_refused(
    demo: DemoEnvironment, client: httpx.AsyncClient, roster: bytes, media: str, status: int
) -> None:
    response = await review(client, demo, roster=roster, media=media)
    assert response.status_code == status and response.json()["status"] == str(status)


async def test_an_unknown_format_is_refused(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    response = await review(client, demo, "xlsx")
    assert response.status_code == 400 and "csv or jsonl" in response.json()["detail"]
