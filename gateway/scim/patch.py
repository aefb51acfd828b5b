"""Normalise PATCH requests (RFC 7644 section 3.5.2) from real IdPs into plain RFC form.

What arrives is rewritten into operations every vendor understands, then
validated by scim2-models against the resource model so that an unknown
path (invalidPath), a read-only target (mutability) or a bad op
(invalidValue) fails before any vendor call. Accepted habits:

- Entra: capitalised ops (`"Replace"`), booleans as strings (`"False"`), a
  path-less op whose value keys are paths (`"name.givenName"`, or a full
  `urn:...:enterprise:2.0:User:department`), the enterprise manager given as
  a bare id string, member removal as `{"path": "members", "value": [...]}`.
- Entra: the manager cleared with an empty value (`"value": ""`, `{"value": ""}`
  or null): RFC 7643 section 2.5 makes null and empty equivalent to
  unassigned, so it becomes a `remove` of the manager, forwarded as such.
- Okta: a path-less group `replace` that repeats the group's own `id`.

Value filters that match nothing (RFC 7644 section 3.5.2), the same on every app:

- `add`/`replace` on `attr[filter]` or `attr[filter].sub` creates the entry the
  filter describes (`eq` comparisons joined by `and`) and writes the value into
  it: Entra sends `replace addresses[type eq "work"].streetAddress` to a user
  without a work address and expects one. RFC 7644 section 3.5.2.3 asks for
  400 `noTarget` here; we follow Entra (scim2-models' policy
  `UnmatchedPathFilter.create`). Any other filter still answers 400 `noTarget`.
- `remove` of `attr[filter]` that matches nothing changes nothing: 200.

Forwarded, an unmatched `add`/`replace` would meet a vendor's own reading
(`noTarget`, or the value silently dropped), so gateway/operations.py reads the
resource first (`needs_current`): when every filter matches (`selects_existing`)
the PATCH is forwarded, otherwise the gateway applies it (apply, PUT). A vendor
`noTarget` to a forwarded PATCH with a filter is answered the same way.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    InvalidSyntaxException,
    InvalidValueException,
    PatchOp,
    Path,
    Resource,
    SCIMException,
)

from gateway.scim.limits import check_operation_count, check_patch_values
from gateway.scim.models import POLICY, ResourceModel, scim_exception

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_BOOLEAN_ATTRIBUTES = frozenset({"active", "primary"})
_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
_ENTERPRISE_MANAGER = _ENTERPRISE + ":manager"
_WRITES = ("add", "replace")


@dataclass(frozen=True)
class NormalisedPatch:
    """RFC-form operations to forward, and the validated model to apply in memory."""

    operations: list[dict[str, Any]]
    #: The operations other than member removals by id, validated (None when there are none).
    model: PatchOp[Any] | None

    @property
    def needs_current(self) -> bool:
        """Whether an `add`/`replace` selects by value filter: its outcome depends on what the resource holds."""
        return any(op["op"] in _WRITES and _filtered(op.get("path")) for op in self.operations)

    @property
    def filtered(self) -> bool:
        """Whether any operation selects by value filter (a strict vendor may answer `noTarget`)."""
        return any(_filtered(op.get("path")) for op in self.operations)

    def selects_existing(self, resource: Resource[Any]) -> bool:
        """Whether every filtered `add`/`replace` matches a value `resource` holds (then any vendor applies it)."""
        paths = [op["path"] for op in self.operations if op["op"] in _WRITES and _filtered(op.get("path"))]
        try:
            # Path is generic over the resource model, chosen here at run time.
            return all(Path[type(resource)](path).get(resource) for path in paths)  # type: ignore[misc,operator]
        except SCIMException:
            return False

    def apply(self, resource: Resource[Any]) -> None:
        """Apply to a resource model in place (for synthesised PATCH), in order.

        Each run of member removals by id is one pass over the members: scim2-models evaluates the
        filter on every member and snapshots the resource for each operation, so N removals from a
        group of M members cost N x M filter evaluations (50 from 1000 members: over a second).
        A removal that matches no member is a no-op, as in scim2-models. Every other operation is
        applied by the validated model, which holds exactly those operations, in order.
        """
        validated = iter((self.model.operations or []) if self.model is not None else [])
        for removing, run in itertools.groupby(self.operations, key=lambda op: _removed_member(op) is not None):
            operations = list(run)
            if removing:
                _remove_members(resource, {_removed_member(operation) or "" for operation in operations})
            elif self.model is not None:
                chunk = list(itertools.islice(validated, len(operations)))
                self.model.model_copy(update={"operations": chunk}).patch(resource, POLICY)


_MEMBER_REMOVAL = re.compile(r'members\[value eq "((?:[^"\\]|\\.)*)"\]')


def _removed_member(operation: dict[str, Any]) -> str | None:
    """The id a `remove` of `members[value eq "id"]` (without a value) takes out, else None."""
    path = operation.get("path")
    if operation.get("op") != "remove" or "value" in operation or not isinstance(path, str):
        return None
    found = _MEMBER_REMOVAL.fullmatch(path)
    return re.sub(r"\\(.)", r"\1", found.group(1)) if found else None


def _remove_members(resource: Resource[Any], member_ids: set[str]) -> None:
    members = getattr(resource, "members", None)
    if members:
        # In place: assigning the attribute would revalidate every remaining member.
        members[:] = [member for member in members if member.value not in member_ids]


@functools.cache
def patch_op_model(model: ResourceModel) -> Any:
    """`PatchOp[model]`, held here: pydantic keeps parametrised classes only weakly, so each full
    garbage collection dropped it and the next PATCH rebuilt it (tens of ms, on the request path)."""
    return PatchOp[model]  # type: ignore[valid-type]  # a model chosen at run time, per app


def normalise_patch(model: ResourceModel, body: Any, resource_id: str) -> NormalisedPatch:
    """Rewrite IdP habits into RFC operations and validate them; raises SCIMException (400).

    The caps of limits.py are checked on the raw operations, then on the normalised ones, before the
    model validates them (each operation costs a model validation).
    """
    if not isinstance(body, dict):
        raise InvalidSyntaxException(detail="a PatchOp must be a JSON object")
    raw_ops = body.get("Operations", body.get("operations"))
    if not isinstance(raw_ops, list) or not raw_ops:
        raise InvalidSyntaxException(detail="a PatchOp needs a non-empty 'Operations' list")
    check_patch_values(raw_ops)
    operations: list[dict[str, Any]] = []
    for raw in raw_ops:
        if not isinstance(raw, dict):
            raise InvalidSyntaxException(detail="each PATCH operation must be a JSON object")
        operations.extend(_normalise_operation(raw, resource_id))
    # Member removals are counted with the members (limits.MAX_MEMBERS), not as operations: IdPs remove
    # many members in one operation, and the gateway takes them out in one pass (NormalisedPatch.apply).
    # Member removals by id need no model: their path is a fixed shape (_MEMBER_REMOVAL), and a model
    # validation per removal would cost seconds for the thousands of members an IdP may remove at once.
    others = [operation for operation in operations if _removed_member(operation) is None]
    check_operation_count(len(others))
    if not others:
        return NormalisedPatch(operations=operations, model=None)
    message = {"schemas": [PATCH_SCHEMA], "Operations": others}
    try:
        validated = patch_op_model(model).model_validate(
            message, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
    except ValidationError as exc:
        raise scim_exception(exc) from None
    if len(validated.operations or []) != len(others):
        raise InvalidValueException(detail="a PATCH operation could not be read")  # never seen: kept aligned
    return NormalisedPatch(operations=operations, model=validated)


def _normalise_operation(raw: dict[str, Any], resource_id: str) -> list[dict[str, Any]]:
    op = str(raw.get("op", "")).lower()
    path = raw.get("path")
    value = raw.get("value")
    if not path:
        return _split_pathless(op, value, resource_id)
    path = str(path).strip()
    if op == "remove" and path.lower() == "members" and isinstance(value, list):
        return [_remove_member(member) for member in value]
    attribute = _last_attribute(path)
    if attribute != "members":  # members have no boolean sub-attribute, and a PATCH may list thousands
        value = _coerce(attribute, value)
    if _is_manager(path):
        path, value = _ENTERPRISE_MANAGER, _manager_value(value)
        if op in _WRITES and _unassigned(value):
            return [{"op": "remove", "path": path}]
    operation: dict[str, Any] = {"op": op, "path": path}
    if "value" in raw:
        operation["value"] = value
    return [operation]


def _split_pathless(op: str, value: Any, resource_id: str) -> list[dict[str, Any]]:
    """One operation per key of a path-less value, so each key may itself be a path."""
    if not isinstance(value, dict):
        return [{"op": op, "value": value}]
    operations = []
    for key, item in value.items():
        if key == "id" and item == resource_id:
            continue  # Okta repeats the group's own id; id is immutable, so this is a no-op.
        if key == "schemas":
            continue
        if key.lower() == _ENTERPRISE.lower() and isinstance(item, dict):
            # Replacing an extension object replaces only the sub-attributes given (RFC 7644 section
            # 3.5.2.3), so each is its own path: the manager inside it is normalised like a direct one.
            for sub, sub_value in item.items():
                operations.extend(_normalise_operation({"op": op, "path": f"{key}:{sub}", "value": sub_value}, ""))
            continue
        operations.extend(_normalise_operation({"op": op, "path": key, "value": item}, resource_id))
    return operations or [{"op": op, "value": {}}]


def _is_manager(path: str) -> bool:
    """`manager`, the enterprise URN form, and Entra's `manager[value eq "id"]` removal."""
    attribute = path.split("[", 1)[0].lower()
    return attribute in ("manager", _ENTERPRISE_MANAGER.lower())


def _manager_value(value: Any) -> Any:
    """Entra sends the manager as a bare id, or as a one-element list of {"value", "$ref"}."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        return {"value": value}
    return value


def _unassigned(manager: Any) -> bool:
    """Null, "", or a complex value whose `value` is null or "" (RFC 7643 section 2.5: all mean unassigned)."""
    if isinstance(manager, dict):
        manager = next((item for key, item in manager.items() if key.lower() == "value"), None)
    return manager is None or manager == "" or manager == []


def _filtered(path: Any) -> bool:
    return isinstance(path, str) and "[" in path


def _remove_member(member: Any) -> dict[str, Any]:
    member_id = member.get("value") if isinstance(member, dict) else member
    if not isinstance(member_id, str):
        raise InvalidValueException(detail="a member to remove needs a string 'value'")
    escaped = member_id.replace("\\", "\\\\").replace('"', '\\"')
    return {"op": "remove", "path": f'members[value eq "{escaped}"]'}


def _last_attribute(path: str) -> str:
    """The attribute a path ends on, lower-cased: `emails[type eq "work"].primary` -> `primary`."""
    tail = path.rsplit("]", 1)[-1].lstrip(".") or path.split("[", 1)[0]
    return tail.rsplit(":", 1)[-1].rsplit(".", 1)[-1].lower()


def _coerce(attribute: str, value: Any) -> Any:
    """Turn Entra's "True"/"False" into booleans where the attribute is boolean."""
    if attribute in _BOOLEAN_ATTRIBUTES:
        return _as_bool(value)
    if isinstance(value, dict):
        return {key: _coerce(key.lower(), item) for key, item in value.items()}
    if isinstance(value, list):
        return [_coerce(attribute, item) for item in value]
    return value


def _as_bool(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value
