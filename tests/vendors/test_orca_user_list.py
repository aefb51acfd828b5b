"""Orca's user list (vendors/orca_users.py UserList): one walk serves lookups between the connector's writes."""

from __future__ import annotations

from typing import Any

from gateway.outbound.budget import CallBudget
from vendors.orca_users import UserList


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_write_of_this_connector_is_shown_without_walking_orca_again() -> None:
    stored = [{"id": f"u{index}", "email": f"user{index}@acme.example"} for index in range(3)]
    fetched: list[int] = []

    async def fetch(budget: CallBudget, offset: int, limit: int) -> list[dict[str, Any]]:
        fetched.append(offset)
        return stored[offset : offset + limit]

    clock = Clock()
    users = UserList(fetch, 2, ttl=2.0, ttl_writes=30.0, clock=clock)
    budget = CallBudget(deadline=60.0)
    assert len(await users.users(budget)) == 3 and fetched == [0, 2, 3]
    created = {"id": "u3", "email": "new@acme.example"}
    users.remember("u3", created)
    users.remember("u0", None)  # deleted
    listed = await users.users(budget)
    assert created in listed and all(user["id"] != "u0" for user in listed)
    assert fetched == [0, 2, 3]  # the walk still serves
    clock.now = 2.5  # the walk is stale: Orca is walked again, and it does not list the write yet (its lag)
    assert created in await users.users(budget) and fetched == [0, 2, 3, 0, 2, 3]
    clock.now = 32.5  # past ttl_writes + ttl: Orca's own list is all there is
    assert created not in await users.users(budget)
