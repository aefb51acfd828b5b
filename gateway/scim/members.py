"""Group members in a POST or PUT body, checked by shape instead of one pydantic model per member.

RFC 7643 section 4.2 gives a member four sub-attributes, all strings: `value`, `$ref`, `type` and
`display`. scim2-models builds a model per member, tens of microseconds each, on the event loop; IdPs push
groups of thousands. This check gives the same result as the model for what it accepts (names matched
case-insensitively, empty members dropped, an empty list meaning no members) and refuses the rest with
the status and scimType the model would give (tests/gateway/test_members.py compares the two).
"""

from __future__ import annotations

from typing import Any

from scim2_models import InvalidSyntaxException, InvalidValueException

_NAMES = {"value": "value", "$ref": "$ref", "type": "type", "display": "display"}
_CANONICAL = _NAMES.keys()


def split_members(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]] | None]:
    """`body` without its members, and the members normalised (None: no members list to check here).

    Raises InvalidValueException (a member that is not an object, a sub-attribute that is not a string)
    or InvalidSyntaxException (an unknown sub-attribute).
    """
    key = next((name for name in body if name.lower() == "members"), None)
    members = body.get(key) if key is not None else None
    if not isinstance(members, list):
        return body, None  # absent, null or not a list: the model decides
    rest = {name: value for name, value in body.items() if name != key}
    return rest, [member for index, item in enumerate(members) if (member := _member(index, item))]


def _member(index: int, item: Any) -> dict[str, str]:
    if type(item) is dict and item.keys() <= _CANONICAL and all(type(value) is str for value in item.values()):
        return item  # the shape every IdP sends: kept as it is
    if not isinstance(item, dict):
        raise InvalidValueException(detail=f"members[{index}] must be a JSON object")
    found: dict[str, str] = {}
    for name, value in item.items():
        canonical = _NAMES.get(name.lower())
        if canonical is None:
            raise InvalidSyntaxException(detail=f"unknown attribute: members[{index}].{name}")
        if value is None:
            found.pop(canonical, None)
        elif isinstance(value, str):
            found[canonical] = value
        else:
            raise InvalidValueException(detail=f"members[{index}].{canonical} must be a string")
    return {name: found[name] for name in _NAMES.values() if name in found}
