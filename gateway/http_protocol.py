"""The HTTP/1.1 server protocol: uvicorn's httptools parser, answering malformed requests as SCIM.

llhttp (behind httptools) refuses request smuggling shapes itself, before
any ASGI code runs: Content-Length together with Transfer-Encoding, two
differing Content-Lengths, bad chunk framing (RFC 9112 section 6.3). uvicorn
then answers a plain-text 400; this subclass makes that answer a SCIM Error
(RFC 7644 section 3.12) like every other refusal, and still closes the connection.
"""

from __future__ import annotations

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_BODY = orjson.dumps(
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "400",
        "detail": "malformed HTTP request (e.g. conflicting Content-Length and Transfer-Encoding)",
    }
)


class ScimHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/scim+json\r\n",
                b"content-length: " + str(len(_BODY)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                _BODY,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
