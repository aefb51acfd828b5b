"""Deterministic demo data: a few users and groups per seed (a tenant name), different for each seed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

_GIVEN = ("Alice", "Bruno", "Chiara", "Dmitri", "Esther", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemi", "Luca")
_FAMILY = ("Andersen", "Baptiste", "Castro", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ito", "Jensen")
_GROUPS = ("Engineering", "Security", "Sales", "Support")


@dataclass(frozen=True)
class DemoData:
    """Users as SCIM User JSON; groups as {displayName, members: [userName, ...]}."""

    users: list[dict[str, Any]]
    groups: list[dict[str, Any]]


def demo_data(seed: str, users: int = 5) -> DemoData:
    """The same `seed` always gives the same people; another seed gives other people."""
    offset = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    people = []
    for index in range(users):
        given = _GIVEN[(offset + index) % len(_GIVEN)]
        family = _FAMILY[(offset // 7 + index * 3) % len(_FAMILY)]
        # Past every given x family pairing, a number keeps userNames unique (they are, at every vendor).
        suffix = "" if index < len(_GIVEN) * len(_FAMILY) // 2 else str(index)
        user_name = f"{given}.{family}{suffix}@{seed}.example".lower()
        people.append(
            {
                "userName": user_name,
                "externalId": f"{seed}-{index + 1:04d}",
                "displayName": f"{given} {family}",
                "name": {"givenName": given, "familyName": family},
                "emails": [{"value": user_name, "type": "work", "primary": True}],
                "active": True,
            }
        )
    names = [person["userName"] for person in people]
    first, second = _GROUPS[offset % 2], _GROUPS[2 + offset % 2]
    groups = [
        {"displayName": first, "members": names[: max(1, len(names) // 2)]},
        {"displayName": second, "members": names[len(names) // 2 :]},
    ]
    return DemoData(users=people, groups=groups)


def demo_secret(vendor: str, seed: str, purpose: str) -> str:
    """A stable, seed-specific demo credential (never used outside simulators and the demo)."""
    digest = hashlib.sha256(f"{vendor}/{seed}/{purpose}".encode()).hexdigest()[:24]
    return f"{vendor}-{purpose}-{digest}"
