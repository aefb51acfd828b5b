"""The SCIM resource models the gateway validates against, and how errors leave them.

scim2-models gives typed User, Group, PatchOp, SearchRequest and Error models.
Two deliberate departures, both towards what RFC 7643 and real IdPs do:

- the Enterprise User `manager` accepts a `value` without `$ref` (RFC 7643
  section 8.7.1 marks both sub-attributes "required": false; Entra and Okta
  send only the id);
- the policy applies Entra's PATCH habits that RFC 7644 leaves open: a
  `remove` whose `value` selects entries, and `add` to `emails[type eq "work"]`
  creating the entry the filter describes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationError
from scim2_models import (
    CaseExact,
    Context,
    EnterpriseUser,
    Error,
    Group,
    Manager,
    Reference,
    Required,
    Resource,
    SCIMException,
    ScimPolicy,
    User,
)

from vendors.base import Kind


class RelaxedManager(Manager):
    value: Annotated[str | None, Required.false, CaseExact.true] = None
    ref: Annotated[Reference[User] | None, Required.false] = Field(  # type: ignore[type-arg]
        None, serialization_alias="$ref", validation_alias="$ref"
    )


class GatewayEnterpriseUser(EnterpriseUser):
    manager: RelaxedManager | None = None


POLICY = ScimPolicy(
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

USER_MODEL = User[GatewayEnterpriseUser]
MODELS: dict[Kind, type[Resource[Any]]] = {Kind.USER: USER_MODEL, Kind.GROUP: Group}


def scim_exception(exc: ValidationError) -> SCIMException:
    """The first SCIM error a pydantic validation error stands for (RFC 7644 section 3.12)."""
    errors = Error.from_validation_errors(exc)
    return SCIMException.from_error(errors[0])


def validate_resource(kind: Kind, body: dict[str, Any], context: Context) -> Resource[Any]:
    """Validate a request body as a resource of `kind`; raises SCIMException (400)."""
    try:
        return MODELS[kind].model_validate(body, scim_ctx=context, scim_policy=POLICY)
    except ValidationError as exc:
        raise scim_exception(exc) from None


def dump_request(resource: Resource[Any], context: Context) -> dict[str, Any]:
    """The normalised body to send upstream: coerced values, read-only attributes dropped."""
    return resource.model_dump(scim_ctx=context, scim_policy=POLICY)


def parse_response(kind: Kind, body: dict[str, Any]) -> Resource[Any]:
    """A vendor resource as a model, for in-gateway filtering and PATCH synthesis."""
    try:
        return MODELS[kind].model_validate(body, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=_LENIENT)
    except ValidationError as exc:
        raise scim_exception(exc) from None


# Reading what a vendor returned: keep going past attributes we do not model.
_LENIENT = POLICY.model_copy(update={"unknown": ScimPolicy.Unknown.ignore})
