"""The SCIM resource models the gateway validates against, and how errors leave them.

scim2-models gives typed User, Group, PatchOp, SearchRequest and Error models.
Two deliberate departures, both towards what RFC 7643 and real IdPs do:

- `emails.value` is any string: scim2-models checks deliverability rules
  (it refuses `.local`, `.test` or `.example` domains) that RFC 7643 does not
  ask for and that real directories break;
- the Enterprise User `manager` accepts a `value` without `$ref` (RFC 7643
  section 8.7.1 marks both sub-attributes "required": false; Entra and Okta
  send only the id);
- the policy applies Entra's PATCH habits that RFC 7644 leaves open: a
  `remove` whose `value` selects entries, and `add` to `emails[type eq "work"]`
  creating the entry the filter describes.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Union

from pydantic import Field, ValidationError
from scim2_models import (
    AnyExtension,
    CaseExact,
    Context,
    Email,
    EnterpriseUser,
    Error,
    Extension,
    Group,
    InvalidValueException,
    Manager,
    Reference,
    Required,
    Resource,
    SCIMException,
    ScimPolicy,
    User,
)

from gateway.scim.limits import check_resource
from gateway.scim.members import split_members
from vendors.base import Kind


class RelaxedManager(Manager):
    value: Annotated[str | None, Required.false, CaseExact.true] = None
    # scim2-models' own Manager.ref spelling: Reference takes the referenced model, not its extensions.
    ref: Annotated[Reference[User] | None, Required.false] = Field(  # type: ignore[type-arg]
        None, serialization_alias="$ref", validation_alias="$ref"
    )


class GatewayEnterpriseUser(EnterpriseUser):
    manager: RelaxedManager | None = None


class RelaxedEmail(Email):
    value: str | None = None
    """Email addresses for the user (RFC 7643 section 4.1.2; not checked for deliverability)."""


class GatewayUser(User[AnyExtension], Generic[AnyExtension]):
    # A narrower item type than User's: lists are invariant for mypy, but pydantic validates against this one.
    emails: list[RelaxedEmail] | None = None  # type: ignore[assignment]
    """Email addresses for the user."""


POLICY = ScimPolicy(
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

USER_MODEL = GatewayUser[GatewayEnterpriseUser]
ResourceModel = type[Resource[Any]]


class SchemaSet:
    """The models one app validates against: User (Enterprise plus the vendor's extensions) and Group."""

    def __init__(self, user_extensions: tuple[type[Extension], ...] = ()) -> None:
        self.extensions: dict[Kind, tuple[type[Extension], ...]] = {
            Kind.USER: (GatewayEnterpriseUser, *user_extensions),
            Kind.GROUP: (),
        }
        # The union of this app's extensions, known only at run time: a type a checker cannot follow.
        extended = Union[self.extensions[Kind.USER]]  # type: ignore[name-defined]  # noqa: UP007
        user = USER_MODEL if not user_extensions else GatewayUser[extended]
        self._models: dict[Kind, ResourceModel] = {Kind.USER: user, Kind.GROUP: Group}
        #: The extension schema URNs of each kind, for `attributes` that name them (RFC 7644 section 3.10).
        self.extension_urns: dict[Kind, tuple[str, ...]] = {
            kind: tuple(str(extension.__schema__) for extension in extensions)
            for kind, extensions in self.extensions.items()
        }

    def __getitem__(self, kind: Kind) -> ResourceModel:
        return self._models[kind]


DEFAULT_SCHEMAS = SchemaSet()


def scim_exception(exc: ValidationError) -> SCIMException:
    """The first SCIM error a pydantic validation error stands for (RFC 7644 section 3.12)."""
    errors = Error.from_validation_errors(exc)
    return SCIMException.from_error(errors[0])


def validate_resource(model: ResourceModel, body: Any, context: Context) -> Resource[Any]:
    """Validate a request body as a `model` resource; raises SCIMException (400).

    A `schemas` entry that names no schema of `model` and carries no
    attributes is dropped: Entra lists its own ADSCIM Group URI in every
    POST /Groups. An unknown schema that does carry attributes is still refused.
    """
    try:
        return model.model_validate(_without_empty_foreign_schemas(model, body), scim_ctx=context, scim_policy=POLICY)
    except ValidationError as exc:
        raise scim_exception(exc) from None


def _without_empty_foreign_schemas(model: ResourceModel, body: Any) -> Any:
    schemas = body.get("schemas") if isinstance(body, dict) else None
    if not isinstance(schemas, list):
        return body
    known = {str(model.__schema__).lower(), *(urn.lower() for urn in model.get_extension_models())}
    present = {key.lower() for key in body}
    kept = [urn for urn in schemas if not isinstance(urn, str) or urn.lower() in known or urn.lower() in present]
    return body if len(kept) == len(schemas) else {**body, "schemas": kept}


def parse_request(model: ResourceModel, body: Any, context: Context) -> dict[str, Any]:
    """A POST or PUT body, checked and normalised for the vendor; raises SCIMException (400).

    Cheap checks come first, on the parsed JSON: the caps (limits.py), then the resource type that
    `schemas` names; only then the model. Group members are checked by shape (members.py).
    """
    group = issubclass(model, Group)
    check_resource(body, members=group)
    check_schemas(model, body)
    members = None
    if group and isinstance(body, dict):
        body, members = split_members(body)
    normalised = dump_request(validate_resource(model, body, context), context)
    if members:
        normalised["members"] = members
    return normalised


def check_schemas(model: ResourceModel, body: Any) -> None:
    """Raise InvalidValueException (400) when `schemas` names another resource type's schema (a Group
    body sent to /Users), or lists schemas but not this type's core schema (RFC 7643 section 3).

    Other URIs pass here: Entra lists its own ADSCIM Group URI in every POST /Groups. A body with no
    `schemas` at all is left to the model, which fills in the core schema.
    """
    schemas = body.get("schemas") if isinstance(body, dict) else None
    if not isinstance(schemas, list) or not schemas:
        return
    own, core = _resource_type(model), str(model.__schema__)
    for urn in schemas:
        other = _RESOURCE_TYPE_OF.get(urn.lower()) if isinstance(urn, str) else None
        if other is not None and other != own:
            raise InvalidValueException(
                detail=f"schemas names {urn}, a {other} schema: this endpoint takes {own} resources "
                f"(send {other} resources to /{other}s)"
            )
    if not any(isinstance(urn, str) and urn.lower() == core.lower() for urn in schemas):
        raise InvalidValueException(detail=f"schemas must include {core} for a {own} resource")


_RESOURCE_TYPE_OF = {
    str(User.__schema__).lower(): "User",
    str(EnterpriseUser.__schema__).lower(): "User",
    str(Group.__schema__).lower(): "Group",
}


def _resource_type(model: ResourceModel) -> str:
    return "Group" if issubclass(model, Group) else "User"


def dump_request(resource: Resource[Any], context: Context) -> dict[str, Any]:
    """The normalised body to send upstream: coerced values, read-only attributes dropped."""
    return resource.model_dump(scim_ctx=context, scim_policy=POLICY)


def parse_response(model: ResourceModel, body: dict[str, Any]) -> Resource[Any]:
    """A vendor resource as a model, for in-gateway filtering and PATCH synthesis."""
    try:
        return model.model_validate(body, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=_LENIENT)
    except ValidationError as exc:
        raise scim_exception(exc) from None


# Reading what a vendor returned: keep going past attributes we do not model.
_LENIENT = POLICY.model_copy(update={"unknown": ScimPolicy.Unknown.ignore})
