"""A manual app's User as the IdP reads it, and what a write asks a person to do (pure, no I/O).

The directory holds the whole desired User (a manual app has no vendor API to
hold any of it). Reads add the gateway's Fulfilment extension: whether the
person working the queue has done what the latest write asked (`pending`,
`done`, `rejected`), which action it was, the work item's id and, once a
create is done, the vendor-side id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from scim2_models import URN, Extension, Mutability

from gateway.backed.attributes import leaves, name, same
from gateway.directory.records import Entry, State
from gateway.directory.work import Action, Task, WorkItem, WorkState

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
FULFILMENT_SCHEMA = "urn:ietf:params:scim:schemas:extension:scim-gateway:2.0:Fulfilment"
#: Never stored as attributes: identity and bookkeeping (the directory's own), the state's own columns,
#: the write-only password, and the extension the gateway computes.
_NOT_ATTRIBUTES = frozenset({"id", "meta", "schemas", "userName", "externalId", "active", "password"})
Resource = dict[str, Any]


class Fulfilment(Extension):
    """Whether the account at the vendor is as the IdP last asked (manual apps: a person does the writes)."""

    __schema__ = URN(FULFILMENT_SCHEMA)

    state: Annotated[str | None, Mutability.read_only] = None
    """pending (a work item is open), done (the vendor holds what was asked) or rejected (it was refused)."""
    action: Annotated[str | None, Mutability.read_only] = None
    """What the latest work item asked: create, update, deactivate or delete."""
    workItem: Annotated[str | None, Mutability.read_only] = None
    """The id of the latest work item (admin API /admin/v1/tenants/{tenant}/work)."""
    vendorId: Annotated[str | None, Mutability.read_only] = None
    """The account's id at the vendor, recorded when its creation was completed."""


def fulfilment_state(item: WorkItem | None) -> str:
    if item is None or item.state is WorkState.DONE:
        return "done"
    return "rejected" if item.state is WorkState.REJECTED else "pending"


def state_of(resource: Mapping[str, Any]) -> State:
    """The directory state of a desired User (the whole resource: there is no vendor to hold any of it)."""
    attributes = {
        key: value for key, value in resource.items() if key not in _NOT_ATTRIBUTES and key != FULFILMENT_SCHEMA
    }
    return State(
        user_name=_text(resource.get("userName")),
        external_id=_text(resource.get("externalId")),
        attributes=attributes,
        active=resource.get("active") is not False,
    )


def view(entry: Entry, item: WorkItem | None) -> Resource:
    """The User as the IdP reads it: the desired state, versioned, with its fulfilment."""
    state = entry.state
    resource: Resource = {"id": str(entry.id), **state.attributes, "userName": state.user_name}
    if state.external_id is not None:
        resource["externalId"] = state.external_id
    resource["active"] = state.active
    done: dict[str, Any] = {"state": fulfilment_state(item)}
    if item is not None:
        done.update(action=item.action.value, workItem=str(item.id))
    if entry.vendor_id is not None:
        done["vendorId"] = entry.vendor_id
    resource[FULFILMENT_SCHEMA] = done
    extensions = [key for key in state.attributes if key.startswith("urn:")]
    resource["schemas"] = [USER_SCHEMA, *extensions, FULFILMENT_SCHEMA]
    resource["meta"] = {
        "resourceType": "User",
        "created": entry.created.isoformat(),
        "lastModified": entry.updated.isoformat(),
        "version": entry.etag,
    }
    return resource


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """Names of the attributes (`name.givenName`, `roles`, `active`) whose values differ: what a person must
    change at the vendor. externalId and the gateway's bookkeeping are not the vendor's business."""
    old, new = _leaves(before), _leaves(after)
    return tuple(sorted({name(leaf) for leaf in old.keys() | new.keys() if not same(new.get(leaf), old.get(leaf))}))


def update_action(before: Mapping[str, Any], after: Mapping[str, Any]) -> Action:
    """`deactivate` when the write turns an active account inactive, else `update`."""
    return Action.DEACTIVATE if before.get("active") is not False and after.get("active") is False else Action.UPDATE


def task(resource: Mapping[str, Any], changes: tuple[str, ...], vendor_id: str | None = None) -> Task:
    """The item's instructions: the account, its roles, what changed."""
    roles = resource.get("roles") or []
    values = tuple(str(role.get("value")) for role in roles if isinstance(role, dict) and role.get("value"))
    return Task(str(resource.get("userName") or ""), values, changes, vendor_id)


def _leaves(resource: Mapping[str, Any]) -> dict[Any, Any]:
    return {leaf: value for leaf, value in leaves(resource).items() if leaf[0] != FULFILMENT_SCHEMA}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
