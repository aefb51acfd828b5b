"""ScimResponse sends exactly what starlette's Response would for the same body, status and headers."""

from __future__ import annotations

import orjson
import pytest
from starlette.responses import Response

from gateway.scim.http import SCIM_MEDIA_TYPE, ScimResponse, error_response, scim_response


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (200, None),
        (201, {"Location": "https://gw.example/tenants/t/apps/a/scim/v2/Users/1"}),
        (429, {"Retry-After": "3"}),
        (204, None),
        (503, {"Retry-After": "5", "X-Extra": "yes"}),
    ],
)
def test_headers_match_starlettes_response(status: int, headers: dict[str, str] | None) -> None:
    body = orjson.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1"})
    ours = ScimResponse(body, status, headers)
    theirs = Response(body, status_code=status, headers=headers, media_type=SCIM_MEDIA_TYPE)
    assert ours.raw_headers == theirs.raw_headers
    assert (ours.status_code, ours.body, ours.background) == (theirs.status_code, theirs.body, theirs.background)
    assert ours.headers["content-type"] == SCIM_MEDIA_TYPE


def test_helpers_render_scim_json() -> None:
    response = scim_response({"a": 1}, status=201, headers={"Location": "https://x/1"})
    assert response.body == b'{"a":1}' and response.headers["location"] == "https://x/1"
    error = error_response(409, "taken", "uniqueness")
    assert orjson.loads(error.body) == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409", "detail": "taken",
        "scimType": "uniqueness",
    }  # fmt: skip
    assert error.status_code == 409 and error.headers["content-length"] == str(len(error.body))
