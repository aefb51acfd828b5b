"""POST create that never creates twice and never loops on 409.

The upstream client resends a POST only after failures where the vendor
certainly did not act (429, refused connections). After any other, whatever
the status (every 5xx but 501, a read timeout or reset after sending: see
`may_have_acted` in retry.py), it raises AmbiguousWrite; here the gateway
then looks the resource up by its unique attribute (userName for users,
displayName for groups, RFC 7643 sections 4.1.1 and 4.2) and answers 201
with what it finds. When nothing is there it resends if the failure is one
a resend may cure (502, 503, 504, transport; the vendor's Retry-After or a
backoff already waited), else the caller gets the failure itself (a 500
stays a 502). A 409 after an ambiguous attempt means our own first POST
landed: it is looked up, not resent.

A found resource is ours only if its externalId (the IdP's id for the
object) agrees with the one sent; a different holder of the same userName is a
genuine conflict (409), never silently adopted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from gateway.outbound.budget import CallBudget
from gateway.outbound.client import AmbiguousWrite
from gateway.outbound.errors import AlreadyExists
from gateway.scim import query as list_query
from vendors.base import Kind, Resource

if TYPE_CHECKING:
    from gateway.operations import AppOperations

#: POSTs sent for one create at most (the request deadline bounds them too).
MAX_CREATE_ATTEMPTS = 3
_UNIQUE = {Kind.USER: "userName", Kind.GROUP: "displayName"}


async def create_once(budget: CallBudget, operations: AppOperations, kind: Kind, resource: Resource) -> Resource:
    """Create `resource` at most once; raises what `operations.create` raises (AlreadyExists on a real clash).

    After an ambiguous failure that neither a lookup nor a resend settles, raises that failure's own
    error (AmbiguousWrite.error), never AmbiguousWrite.
    """
    ambiguous: AmbiguousWrite | None = None
    for _ in range(MAX_CREATE_ATTEMPTS):
        try:
            return await operations.create(budget, kind, resource)
        except AmbiguousWrite as exc:
            ambiguous = exc
        except AlreadyExists:
            if ambiguous is None:
                raise
            found = await find_created(budget, operations, kind, resource)
            if found is None:
                raise
            return found
        found = await find_created(budget, operations, kind, resource)
        if found is not None:
            return found
        if not ambiguous.resend:
            raise ambiguous.error
    assert ambiguous is not None
    raise ambiguous.error


async def find_created(
    budget: CallBudget, operations: AppOperations, kind: Kind, resource: Resource
) -> Resource | None:
    """The resource the vendor holds under `resource`'s unique attribute, if it is the one we sent.

    Raises AlreadyExists when the holder is someone else (different externalId).
    """
    attribute = _UNIQUE[kind]
    value = resource.get(attribute)
    if not isinstance(value, str) or not value:
        return None
    text = f"{attribute} eq {orjson.dumps(value).decode()}"
    query = list_query.from_search_body(operations.schemas[kind], {"filter": text, "count": 2}, 2)
    page = await operations.search(budget, kind, query)
    for found in page.resources:
        if str(found.get(attribute, "")).lower() != value.lower():
            continue
        if _same_external_id(resource, found):
            return found
        raise AlreadyExists(f"another {kind.value} already holds {attribute} {value!r}")
    return None


def _same_external_id(sent: Resource, found: Resource) -> bool:
    wanted: Any = sent.get("externalId")
    held: Any = found.get("externalId")
    return wanted is None or held is None or wanted == held
