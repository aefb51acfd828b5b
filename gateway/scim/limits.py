"""Caps on how much one request body asks the gateway to validate, checked by counting on the parsed JSON.

scim2-models validates every value of a body (and every PATCH operation) as a pydantic model, on the one
event loop that serves every tenant: tens of microseconds a value, so a 770 kB user with 30,000 emails, or
a body of 100,000 unknown keys, held the loop for seconds. These counts run first and refuse such a body
with 400 `tooMany` before any model is built:

- MAX_VALUES values in one multi-valued attribute (emails, phoneNumbers, addresses, ims, photos,
  entitlements, roles, x509Certificates, any list at all);
- MAX_BODY_VALUES JSON values in all (every object member and list item, at any depth), whatever the
  attribute names: unknown names cost as much to refuse as known ones cost to accept;
- MAX_MEMBERS members of a Group body, or member values added or replaced by one PATCH: they are not
  counted in MAX_BODY_VALUES, since members are checked without building a model per member;
- MAX_OPERATIONS PATCH operations, counted as the gateway runs them: each key of a path-less value is
  one operation; member removals count with the members (MAX_MEMBERS), as IdPs remove many at once.

RFC 7644 section 3.12 defines `tooMany` for a query that would return too many results; it is the
nearest scimType for a request that asks the server to process too much (the filter-term cap uses it too).
"""

from __future__ import annotations

from typing import Any

from scim2_models import TooManyException

MAX_VALUES = 100
MAX_BODY_VALUES = 500
MAX_MEMBERS = 5000
MAX_OPERATIONS = 100


def check_resource(body: Any, *, members: bool) -> None:
    """Raise TooManyException if a resource body (POST, PUT) is over a cap; `members`: the resource is a Group.

    A body that is not a JSON object passes: the model refuses it.
    """
    if isinstance(body, dict):
        _count(body, _Budget(), members_key="members" if members else None)


def check_patch_values(operations: list[Any]) -> None:
    """Raise TooManyException if the raw PATCH `Operations` are over a cap (before any normalisation)."""
    if len(operations) > MAX_OPERATIONS:
        raise TooManyException(detail=f"more than {MAX_OPERATIONS} PATCH operations in one request")
    budget = _Budget()
    members = 0
    for operation in operations:
        if not isinstance(operation, dict):
            continue
        value = operation.get("value")
        path = operation.get("path")
        if isinstance(path, str) and path.strip().lower() == "members" and isinstance(value, list):
            members += len(value)
            if members > MAX_MEMBERS:
                raise TooManyException(detail=f"more than {MAX_MEMBERS} member values in one PATCH")
            continue
        if not path and isinstance(value, dict):
            _count(value, budget, members_key="members")  # path-less: the keys are attributes (Okta's group replace)
        else:
            name = path.rsplit(".", 1)[-1] if isinstance(path, str) else "value"
            _count({name: value}, budget, members_key=None)


def check_operation_count(count: int) -> None:
    """Raise TooManyException if the normalised PATCH has more than MAX_OPERATIONS operations."""
    if count > MAX_OPERATIONS:
        raise TooManyException(
            detail=f"more than {MAX_OPERATIONS} PATCH operations in one request "
            "(each key of a path-less value counts as one)"
        )


class _Budget:
    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_BODY_VALUES

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise TooManyException(detail=f"more than {MAX_BODY_VALUES} attribute values in one request")


def _count(root: dict[str, Any], budget: _Budget, members_key: str | None) -> None:
    """Walk `root` without recursion (orjson accepts 1024 levels of nesting; Python's stack is shallower)."""
    budget.spend(len(root))
    stack: list[tuple[str, Any]] = []
    for key, value in root.items():
        if members_key is not None and isinstance(value, list) and key.lower() == members_key:
            if len(value) > MAX_MEMBERS:
                raise TooManyException(detail=f"{key!r} has more than {MAX_MEMBERS} values")
            continue
        stack.append((key, value))
    while stack:
        name, node = stack.pop()
        if isinstance(node, dict):
            budget.spend(len(node))
            stack.extend(node.items())
        elif isinstance(node, list):
            if len(node) > MAX_VALUES:
                raise TooManyException(detail=f"{name!r} has more than {MAX_VALUES} values")
            budget.spend(len(node))
            stack.extend((name, item) for item in node)
