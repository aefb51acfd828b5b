"""Parse list and search requests (RFC 7644 sections 3.4.2 and 3.4.3).

GET query parameters and POST /.search bodies become one `ListQuery`. The
filter is parsed and checked against the resource model by scim2-models, so
a malformed filter or an unknown attribute is a 400 invalidFilter before any
vendor is called. `count` above the announced maxResults is served as
maxResults (section 3.4.2.4 lets the provider return fewer); `startIndex` or
`count` beyond a signed 64-bit integer is 400 invalidValue (a vendor or a JSON
encoder could not carry it); below 1 (0 for count) they are read as 1 (0).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from scim2_models import Context, InvalidFilterException, InvalidValueException, ScimFilter, SearchRequest

from gateway.scim.filter_limits import check_filter_size
from gateway.scim.limits import check_resource
from gateway.scim.models import POLICY, ResourceModel, scim_exception

DEFAULT_COUNT = 100
MAX_INDEX = 2**63 - 1
_PARAMS = ("filter", "startIndex", "count", "attributes", "excludedAttributes", "sortBy", "sortOrder")


@dataclass(frozen=True)
class ListQuery:
    filter: ScimFilter[Any] | None
    start_index: int
    count: int
    attributes: tuple[str, ...] = ()
    excluded_attributes: tuple[str, ...] = ()


def from_query_params(model: ResourceModel, params: Mapping[str, str], max_results: int) -> ListQuery:
    """Parse GET /Users?filter=...&startIndex=...&count=...; raises SCIMException."""
    body: dict[str, Any] = {}
    for name in _PARAMS:
        value = params.get(name)
        if value is not None:
            body[name] = value
    return _parse(model, body, max_results)


def from_search_body(model: ResourceModel, body: Any, max_results: int) -> ListQuery:
    """Parse a POST .search body (RFC 7644 section 3.4.3); raises SCIMException."""
    if not isinstance(body, dict):
        raise InvalidFilterException(detail="a SearchRequest must be a JSON object")
    return _parse(model, body, max_results)


@functools.cache
def search_request_model(model: ResourceModel) -> Any:
    """`SearchRequest[model]`, held here: pydantic keeps parametrised classes only weakly, so each full
    garbage collection dropped it and the next list rebuilt it (27 ms, on the request path)."""
    return SearchRequest[model]  # type: ignore[valid-type]  # a model chosen at run time, per app


def _parse(model: ResourceModel, body: dict[str, Any], max_results: int) -> ListQuery:
    text = body.get("filter")
    if isinstance(text, str):
        check_filter_size(text)  # length, nesting depth, term count: before the recursive parser runs
    for name in ("attributes", "excludedAttributes"):
        if isinstance(body.get(name), str):
            body[name] = [part.strip() for part in body[name].split(",") if part.strip()]
    check_resource(body, members=False)  # attribute lists and unknown keys, counted before the model runs
    try:
        request = search_request_model(model).model_validate(body, scim_ctx=Context.SEARCH_REQUEST, scim_policy=POLICY)
    except ValidationError as exc:
        raise scim_exception(exc) from None
    for name, value in (("startIndex", request.start_index), ("count", request.count)):
        if value is not None and value > MAX_INDEX:
            raise InvalidValueException(detail=f"{name} must be at most {MAX_INDEX}")
    count = DEFAULT_COUNT if request.count is None else request.count
    return ListQuery(
        filter=request.filter,
        start_index=request.start_index or 1,
        count=max(0, min(count, max_results)),
        attributes=tuple(str(a) for a in request.attributes or ()),
        excluded_attributes=tuple(str(a) for a in request.excluded_attributes or ()),
    )
