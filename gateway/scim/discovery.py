"""Discovery documents (RFC 7644 section 4) generated from what an app can really do.

Nothing is announced that the gateway does not implement: no Bulk, no
sorting, no password change; ETags only for apps whose directory versions
their resources; PATCH only where the app can serve it
(natively or synthesised); resource types only for kinds it can serve.
Documents are built once per app; only `meta.location` depends on the URL.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Extension,
    External,
    Filter,
    Group,
    Patch,
    Reference,
    Resource,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
)

from gateway.scim.models import GatewayUser, SchemaSet
from vendors.base import Kind, Op
from vendors.profile import AttributeProfile, mark_held, trim_schema

_DUMP = Context.RESOURCE_QUERY_RESPONSE
_BEARER = AuthenticationScheme(
    type=AuthenticationScheme.Type.oauthbearertoken,
    name="OAuth Bearer Token",
    description="A per-tenant bearer token issued by the gateway operator (RFC 6750).",
    spec_uri=Reference[External]("https://www.rfc-editor.org/rfc/rfc6750"),
    primary=True,
)


class Discovery:
    """ServiceProviderConfig, ResourceTypes and Schemas of one app."""

    def __init__(
        self,
        offered: Mapping[Kind, frozenset[Op]],
        schemas: SchemaSet,
        max_results: int,
        profile: AttributeProfile | None = None,
        *,
        etags: bool = False,
        held_by: str | None = None,
    ) -> None:
        """`profile`: the User attributes the vendor holds; only those are announced (vendors/profile.py),
        unless the gateway holds the rest (`held_by`: the vendor's name; directory: full), in which case
        all are, the held ones described as such. `etags`: resources carry versions (the directory's)."""
        kinds = [kind for kind in Kind if offered.get(kind)]
        self.kinds = kinds
        patchable = any(Op.PATCH in offered[kind] for kind in kinds)
        self._config = _config_document(patchable, bool(kinds), max_results, etags)
        self._schemas: dict[str, dict[str, Any]] = {}
        unheld: set[str] = set()  # extensions of which the vendor holds nothing: not announced at all
        for kind in kinds:
            models: tuple[type[Resource[Any]] | type[Extension], ...] = (
                _core_model(schemas, kind),
                *schemas.extensions[kind],
            )
            for model in models:
                schema_id, document = _schema_document(model)
                core = model is _core_model(schemas, kind)
                if kind is Kind.USER and profile is not None and held_by is not None:
                    document = mark_held(document, profile, core, held_by)
                elif kind is Kind.USER and profile is not None:
                    document = trim_schema(document, profile, core=core)
                    if not core and not document["attributes"]:
                        unheld.add(schema_id)
                        continue
                self._schemas[schema_id] = document
        self._resource_types = {kind.value: _resource_type(schemas, kind, unheld) for kind in kinds}

    def service_provider_config(self, base: str) -> dict[str, Any]:
        return _with_meta(self._config, "ServiceProviderConfig", f"{base}/ServiceProviderConfig")

    def resource_types(self, base: str) -> list[dict[str, Any]]:
        return [
            _with_meta(document, "ResourceType", f"{base}/ResourceTypes/{name}")
            for name, document in self._resource_types.items()
        ]

    def resource_type(self, name: str, base: str) -> dict[str, Any] | None:
        document = self._resource_types.get(name)
        return None if document is None else _with_meta(document, "ResourceType", f"{base}/ResourceTypes/{name}")

    def schemas(self, base: str) -> list[dict[str, Any]]:
        return [_with_meta(document, "Schema", f"{base}/Schemas/{urn}") for urn, document in self._schemas.items()]

    def schema(self, urn: str, base: str) -> dict[str, Any] | None:
        document = self._schemas.get(urn)
        return None if document is None else _with_meta(document, "Schema", f"{base}/Schemas/{urn}")


# Documents are shared by every app with the same model or settings (thousands of tenants start in
# seconds, not minutes, and hold one copy): they are never mutated after they are built, only copied.
@functools.cache
def _config_document(patchable: bool, filterable: bool, max_results: int, etags: bool) -> dict[str, Any]:
    return ServiceProviderConfig(
        documentation_uri=Reference[External]("https://github.com/scim-gateway/scim-gateway#readme"),
        patch=Patch(supported=patchable),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=filterable, max_results=max_results),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=etags),
        authentication_schemes=[_BEARER],
    ).model_dump(scim_ctx=_DUMP)


@functools.cache
def _schema_document(model: type[Any]) -> tuple[str, dict[str, Any]]:
    schema: Schema = model.to_schema()
    return str(schema.id), schema.model_dump(scim_ctx=_DUMP)


@functools.cache
def _resource_type_document(model: type[Any]) -> dict[str, Any]:
    return ResourceType.from_resource(model).model_dump(scim_ctx=_DUMP)


def _resource_type(schemas: SchemaSet, kind: Kind, unheld: set[str]) -> dict[str, Any]:
    document = dict(_resource_type_document(schemas[kind]))  # a copy: its top level is edited below
    extensions = [ext for ext in document.get("schemaExtensions") or [] if ext["schema"] not in unheld]
    if extensions:
        document["schemaExtensions"] = extensions
    else:
        document.pop("schemaExtensions", None)
    return document


def _core_model(schemas: SchemaSet, kind: Kind) -> type[Any]:
    """The core resource model without extensions (to_schema of User[X] would repeat X)."""
    return Group if kind is Kind.GROUP else GatewayUser


def _with_meta(document: dict[str, Any], resource_type: str, location: str) -> dict[str, Any]:
    return {**document, "meta": {"resourceType": resource_type, "location": location}}
