"""The review's walk in isolation: page by page (the next page is asked for only once the last one
was sent), flat memory however many accounts, and a walk that stops part-way says where."""

from __future__ import annotations

import tracemalloc
from types import SimpleNamespace
from typing import Any

import orjson

from gateway.admin.review import csv_line, encode, review_pages
from gateway.admin.roster import parse_roster
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import VendorUnavailable
from gateway.scim.query import ListQuery
from vendors.base import Connector, Kind, Op, Page


class PagedUsers:
    """An app's operations listing `total` generated users, `cap` per page, failing from page `fail_at` on."""

    offered = {Kind.USER: frozenset({Op.SEARCH, Op.GET})}

    def __init__(self, total: int, cap: int = 100, fail_at: int | None = None) -> None:
        self.total, self.cap, self.fail_at = total, cap, fail_at
        self.asked: list[int] = []

    def require(self, kind: Kind, op: Op) -> None:
        assert op in self.offered[kind]

    async def search(self, budget: CallBudget, kind: Kind, query: ListQuery) -> Page:
        self.asked.append(query.start_index)
        if self.fail_at is not None and len(self.asked) >= self.fail_at:
            raise VendorUnavailable("app 'big': the vendor is unavailable (HTTP 503)")
        first = query.start_index - 1
        count = min(query.count, self.cap, self.total - first)
        users = [
            {
                "id": f"u{n}",
                "userName": f"user{n}@big.example",
                "active": n % 7 != 0,
                "roles": [{"value": "owner" if n == 2 else "Member"}],
            }
            for n in range(first, first + max(0, count))
        ]
        return Page(total=self.total, resources=users)


class Plain(Connector):
    vendor = "plain"
    capabilities = {}
    privileged_roles = frozenset({"Owner"})


def tenant(operations: PagedUsers) -> Any:
    app = SimpleNamespace(
        name="big", vendor="plain", operations=operations, resources=None, max_results=1000, secrets=(),
        connector=object.__new__(Plain),
    )  # fmt: skip
    return SimpleNamespace(name="acme", apps={"big": app})


def budget(app: Any) -> CallBudget:
    return CallBudget(deadline=float("inf"))


async def test_the_next_page_is_asked_for_only_once_the_last_was_sent() -> None:
    operations = PagedUsers(total=250)
    chunks = encode(review_pages(tenant(operations), None, budget), "jsonl")
    first = await anext(chunks)
    assert operations.asked == [1]
    assert len(first.splitlines()) == 100
    await anext(chunks)
    assert operations.asked == [1, 101]
    rest = [chunk async for chunk in chunks]
    assert operations.asked == [1, 101, 201] and len(rest) == 1 and len(rest[0].splitlines()) == 50


async def test_memory_stays_flat_however_many_accounts() -> None:
    async def peak(total: int) -> tuple[int, int]:
        rows = 0
        tracemalloc.start()
        try:
            async for chunk in encode(review_pages(tenant(PagedUsers(total)), None, budget), "csv"):
                rows += chunk.count(b"\n")
            return rows, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small_rows, small_peak = await peak(1_000)
    large_rows, large_peak = await peak(30_000)
    assert (small_rows, large_rows) == (1_001, 30_001)  # with the header line
    assert large_peak < small_peak * 1.5 + 64 * 1024, (small_peak, large_peak)


async def test_a_walk_stopped_part_way_says_how_far_it_got() -> None:
    operations = PagedUsers(total=500, fail_at=3)
    chunks = encode(review_pages(tenant(operations), None, budget), "jsonl")
    rows = [orjson.loads(line) async for chunk in chunks for line in chunk.splitlines()]
    assert [row["kind"] for row in rows] == ["account"] * 200 + ["error"]
    assert rows[-1]["detail"].startswith("listing stopped after 200 accounts: ") and "503" in rows[-1]["detail"]


async def test_flags_from_a_roster_and_privileged_roles() -> None:
    operations = PagedUsers(total=3)
    roster = parse_roster(b"userName,active\nUSER0@big.example,true\nuser1@big.example,false\n", "text/csv")
    pages = [rows async for rows in review_pages(tenant(operations), roster, budget)]
    flags = {row["userName"]: row["flags"] for rows in pages for row in rows}
    # user0 is inactive (n % 7 == 0): an inactive account is never flagged against the roster.
    assert flags == {
        "user0@big.example": [],
        "user1@big.example": ["inactive_in_roster"],
        "user2@big.example": ["not_in_roster", "privileged"],  # "owner": roles compare without case
    }


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    assert csv_line(["=HYPERLINK(1)", "+1", "plain"]) == b"'=HYPERLINK(1),'+1,plain\r\n"
