"""The connector contract: what a vendor module declares and implements.

A connector *declares* per resource type which SCIM operations the vendor can
do natively (`capabilities`) and implements exactly those methods, named with
SCIM verbs. The gateway derives what it can offer from the declaration and
synthesises the rest (get from search, filtering in memory, PATCH as
get + replace, replace as get + PATCH); anything else fails with 501 before
any I/O. A class whose declaration and methods disagree fails at import.

Every method that calls the vendor takes the caller's CallBudget
(gateway/outbound/budget.py) first and hands it to each
`self.upstream.request(..., budget=budget)`: the request's deadline bounds
the calls, and their statuses reach its audit record.

Resources cross this boundary as SCIM JSON dicts (RFC 7643), already mapped:
`to_scim`/`from_scim` translation is the connector's business; protocol rules
(validation, projection, meta.location) are the gateway's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict
from scim2_models import Extension

from gateway.outbound.errors import NotSupported, UnknownResource

if TYPE_CHECKING:
    from scim2_models import ScimFilter

    from gateway.outbound.auth import VendorAuth
    from gateway.outbound.budget import CallBudget
    from gateway.outbound.client import UpstreamClient
    from vendors.facts import VendorFacts
    from vendors.profile import AttributeProfile

Resource = dict[str, Any]


class Kind(StrEnum):
    """The SCIM resource types a connector may serve (RFC 7643 section 4)."""

    USER = "User"
    GROUP = "Group"

    # Members are str and compare as their value; hashing them as that str too (C) keeps every dict and
    # set keyed by them consistent with plain strings and skips Enum's Python-level __hash__ on lookups.
    __hash__ = str.__hash__

    @property
    def endpoint(self) -> str:
        return _ENDPOINTS[self]


_ENDPOINTS = {kind: f"/{kind.value}s" for kind in Kind}


class Op(StrEnum):
    """SCIM operations; FILTER means `search` evaluates SCIM filters itself."""

    GET = "get"
    SEARCH = "search"
    FILTER = "filter"
    CREATE = "create"
    REPLACE = "replace"
    PATCH = "patch"
    DELETE = "delete"

    __hash__ = str.__hash__  # as Kind's


Capabilities = Mapping[Kind, frozenset[Op]]
_METHOD_OPS = (Op.GET, Op.SEARCH, Op.CREATE, Op.REPLACE, Op.PATCH, Op.DELETE)


@dataclass(frozen=True)
class SearchQuery:
    """One page of a search. `start_index` is 1-based (RFC 7644 section 3.4.2.4).

    `filter` is only ever set for connectors that declare Op.FILTER for the kind.
    """

    filter: ScimFilter[Any] | None = None
    start_index: int = 1
    count: int = 100


@dataclass
class Page:
    """A page of search results; `total` counts every match, not just this page."""

    total: int
    resources: list[Resource] = field(default_factory=list)


class ConnectorSettings(BaseModel):
    """Base of each connector's settings model: what one app of that vendor needs.

    Credentials arrive already resolved from their references as SecretStr.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class Connector:
    """Base class of every vendor connector. See the module docstring for the contract."""

    vendor: ClassVar[str]
    facts: ClassVar[VendorFacts]
    Settings: ClassVar[type[ConnectorSettings]]
    capabilities: ClassVar[Capabilities]
    #: Said in every 501 when the vendor cannot do an operation at all (what the admin should do instead).
    unsupported_reason: ClassVar[str | None] = None
    #: Role or group names (compared without case) that the vendor's docs name as administrative: an access
    #: review flags accounts holding one as privileged (gateway/admin/review.py), and an app of such a vendor
    #: refuses to adopt accounts made outside the IdP unless configured to (`on_existing`).
    privileged_roles: ClassVar[frozenset[str]] = frozenset()
    #: Vendor-specific User extension schemas (scim2-models Extension classes), beside Enterprise User.
    user_extensions: ClassVar[tuple[type[Extension], ...]] = ()

    def __init__(self, settings: ConnectorSettings, upstream: UpstreamClient) -> None:
        self.settings = settings
        self.upstream = upstream

    @classmethod
    def user_profile(cls, settings: Any) -> AttributeProfile | None:
        """The User attributes this vendor holds, for discovery (vendors/profile.py); None: all of RFC 7643's."""
        return None

    @classmethod
    def base_url(cls, settings: Any) -> str:
        """The vendor URL every request of this app is relative to."""
        raise NotImplementedError

    @classmethod
    def vendor_auth(cls, settings: Any) -> VendorAuth:
        """The object that signs each upstream request of this app."""
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "capabilities" in cls.__dict__:
            _check_declaration(cls)

    @classmethod
    def supports(cls, kind: Kind, op: Op) -> bool:
        return op in cls.capabilities.get(kind, frozenset())

    def filterable(self, kind: Kind, scim_filter: ScimFilter[Any]) -> bool:
        """Whether `search` can evaluate this filter upstream (only asked when FILTER is declared).

        Vendors that filter on a few attributes only say so here; the gateway
        evaluates every other filter itself.
        """
        return True

    async def check(self, budget: CallBudget) -> None:
        """Connectivity check within `budget` (the checker's own); raises a ConnectorError if the vendor is unusable."""
        kind = next(iter(self.capabilities), Kind.USER)
        await self.search(budget, kind, SearchQuery(count=1))

    async def get(self, budget: CallBudget, kind: Kind, resource_id: str) -> Resource:
        """Return the resource; raises UnknownResource when the vendor has no such id."""
        raise NotSupported(f"{self.vendor} cannot read {kind.value} resources by id")

    async def search(self, budget: CallBudget, kind: Kind, query: SearchQuery) -> Page:
        """Return one page of `kind`, filtered by `query.filter` when FILTER is declared."""
        raise NotSupported(f"{self.vendor} cannot list {kind.value} resources")

    async def create(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        """Create and return the created resource; raises AlreadyExists on a clash."""
        raise NotSupported(f"{self.vendor} cannot create {kind.value} resources")

    async def replace(
        self, budget: CallBudget, kind: Kind, resource_id: str, resource: Resource, *, current: Resource | None = None
    ) -> Resource:
        """Replace every writable attribute and return the result (RFC 7644 section 3.5.1).

        `current`: the resource as the caller read it for this very write (it holds the write to itself:
        the directory's intent); a connector that must know the current state to write uses it rather
        than reading the resource again. None: read it if needed.
        """
        raise NotSupported(f"{self.vendor} cannot replace {kind.value} resources")

    async def patch(
        self, budget: CallBudget, kind: Kind, resource_id: str, operations: list[dict[str, Any]]
    ) -> Resource | None:
        """Apply normalised PATCH operations; None when the vendor did not return the resource."""
        raise NotSupported(f"{self.vendor} cannot patch {kind.value} resources")

    async def delete(self, budget: CallBudget, kind: Kind, resource_id: str) -> None:
        """Delete (or deactivate, where the app is so configured) the resource."""
        raise NotSupported(f"{self.vendor} cannot delete {kind.value} resources")


#: RFC 3986 unreserved characters: quote() leaves them as they are.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


def quote_id(resource_id: str) -> str:
    """A resource id as one URL path segment: `/`, `?`, `#` and `..` cannot steer the vendor path.

    Dot segments are refused (UnknownResource) rather than quoted: URL libraries
    (yarl) decode `%2E` and resolve `..` against the path.
    """
    if resource_id in ("", ".", ".."):
        raise UnknownResource("no resource with such an id")
    if _UNRESERVED.fullmatch(resource_id):
        return resource_id  # what quote() would return for the common UUID-like id
    return quote(resource_id, safe="")


def _check_declaration(cls: type[Connector]) -> None:
    """Fail at import when declared capabilities and implemented methods disagree."""
    declared = set().union(*cls.capabilities.values()) if cls.capabilities else set()
    for op in _METHOD_OPS:
        implemented = getattr(cls, op.value) is not getattr(Connector, op.value)
        if op in declared and not implemented:
            raise TypeError(f"{cls.__name__} declares {op.value} but does not implement it")
        if op.value in cls.__dict__ and op not in declared:
            raise TypeError(f"{cls.__name__} implements {op.value} but declares it for no resource type")
    for kind, ops in cls.capabilities.items():
        if Op.FILTER in ops and Op.SEARCH not in ops:
            raise TypeError(f"{cls.__name__} declares filter without search for {kind.value}")
