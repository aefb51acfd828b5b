"""SCIM responses: bodies as application/scim+json (RFC 7644 section 3.1), errors as section 3.12 says."""

from __future__ import annotations

import orjson

from gateway.scim.http import SCIM_MEDIA_TYPE, error_response, scim_response


def test_helpers_render_scim_json() -> None:
    response = scim_response({"a": 1}, status=201, headers={"Location": "https://x/1"})
    assert response.body == b'{"a":1}' and response.headers["location"] == "https://x/1"
    assert response.headers["content-type"] == SCIM_MEDIA_TYPE  # no charset parameter (RFC 7644 section 3.1)
    error = error_response(409, "taken", "uniqueness")
    assert orjson.loads(error.body) == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409", "detail": "taken",
        "scimType": "uniqueness",
    }  # fmt: skip
    assert error.status_code == 409 and error.headers["content-length"] == str(len(error.body))
