"""Reading a vendor's answer with a size cap, counted after decompression.

A vendor answer is untrusted input: a 50 MB page or a gzip bomb (a few kB
that inflate to gigabytes) must not grow the process past the cap. aiohttp
(>= 3.13.3) inflates a compressed body in bounded steps under its flow
control, so reading its decompressed stream piece by piece and stopping at
the cap bounds memory by the cap plus one read buffer; the event loop is
given back every `_YIELD_EVERY` bytes.
"""

from __future__ import annotations

import asyncio

import aiohttp

from gateway.outbound.errors import VendorBadResponse

#: Decompressed bytes read between two pauses that let other requests run.
_YIELD_EVERY = 256 * 1024


class ResponseTooLarge(VendorBadResponse):
    """The vendor's answer (decompressed) exceeds the app's `http.max_response_bytes` (502)."""


async def read_capped(raw: aiohttp.ClientResponse, limit: int, app: str) -> bytes:
    """The whole body of `raw`, decompressed; raises ResponseTooLarge (and drops the connection) past `limit`."""
    declared = raw.content_length
    if declared is not None and "Content-Encoding" not in raw.headers:
        if declared > limit:  # refused before a byte of it is read
            raw.close()
            raise _too_large(app, limit)
        return await raw.read()  # the parser stops at Content-Length: never more than `limit`
    pieces: list[bytes] = []
    size, next_yield = 0, _YIELD_EVERY
    async for piece in raw.content.iter_any():
        size += len(piece)
        if size > limit:
            raw.close()
            raise _too_large(app, limit)
        pieces.append(piece)
        if size >= next_yield:
            # Reading buffered data resumes aiohttp's parser, which inflates the next piece at once: without
            # a pause, a compressed answer would be inflated up to `limit` without letting other tasks run.
            next_yield = size + _YIELD_EVERY
            await asyncio.sleep(0)
    return b"".join(pieces)


def _too_large(app: str, limit: int) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"app {app!r}: the vendor's answer is larger than {limit} bytes (http.max_response_bytes) and was"
        " refused; ask for smaller pages (a lower count) or raise http.max_response_bytes for this app"
    )
