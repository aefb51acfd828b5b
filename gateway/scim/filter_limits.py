"""Caps on a SCIM filter's size, checked on the raw text before it is parsed (RFC 7644 section 3.4.2.2).

The filter parser recurses on nesting, so a deep `((((...))))` or a long
chain of `and`/`or` is refused here, cheaply, before it can cost CPU or
recursion: longer than MAX_FILTER_LENGTH or nested deeper than
MAX_FILTER_DEPTH is 400 invalidFilter; more than MAX_FILTER_TERMS
comparisons is 400 tooMany (more than the gateway is willing to evaluate).
"""

from __future__ import annotations

import re

from scim2_models import InvalidFilterException, SCIMException

MAX_FILTER_LENGTH = 4096
MAX_FILTER_DEPTH = 8
MAX_FILTER_TERMS = 50
_LOGICAL = re.compile(r"\s(?:and|or)\s", re.IGNORECASE)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


class TooManyFilterTerms(SCIMException):
    status = 400
    scim_type = "tooMany"
    _default_detail = "the filter has more terms than the gateway evaluates"


def check_filter_size(text: str) -> None:
    """Raise InvalidFilterException (length, depth) or TooManyFilterTerms; quoted values do not count."""
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilterException(detail=f"filter longer than {MAX_FILTER_LENGTH} characters")
    bare = _STRING.sub('""', text)
    depth = deepest = 0
    for char in bare:
        if char in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]":
            depth -= 1
    if deepest > MAX_FILTER_DEPTH:
        raise InvalidFilterException(detail=f"filter nested deeper than {MAX_FILTER_DEPTH} levels")
    terms = len(_LOGICAL.findall(bare)) + 1
    if terms > MAX_FILTER_TERMS:
        raise TooManyFilterTerms(detail=f"filter with more than {MAX_FILTER_TERMS} terms")
