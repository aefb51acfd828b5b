"""quote_id: an id becomes exactly one URL path segment; its fast path agrees with urllib's quote."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from gateway.outbound.errors import UnknownResource
from vendors.base import quote_id


@pytest.mark.parametrize(
    "resource_id",
    ["2819c223-7f76-453a-919d-413861904646", "usr_bench0000", "a.b~c", "a b", "a/b", "a?b#c", "ü", "%2E%2E", "a%2Fb"],
)
def test_the_segment_is_what_quote_gives_and_cannot_steer_the_path(resource_id: str) -> None:
    segment = quote_id(resource_id)
    assert segment == quote(resource_id, safe="")
    assert "/" not in segment and "?" not in segment and "#" not in segment


@pytest.mark.parametrize("resource_id", ["", ".", ".."])
def test_dot_segments_and_empty_ids_are_unknown(resource_id: str) -> None:
    with pytest.raises(UnknownResource):
        quote_id(resource_id)
