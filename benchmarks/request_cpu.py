"""CPU one request body costs the event loop, for the worst bodies that still pass the input caps.

    python -m benchmarks.request_cpu [--repeat N]

Each body is the most expensive shape found for its path at the caps of gateway/scim/limits.py; the
figure is the process CPU time (time.process_time) of what the orchestrator runs on the loop before any
vendor call: orjson parsing plus the checks and model validation (parse_request, normalise_patch,
from_search_body), the least of N runs. A body just over a cap is timed too: a refusal must be cheap.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import orjson
from scim2_models import Context, SCIMException

from gateway.scim import query
from gateway.scim.limits import MAX_BODY_VALUES, MAX_MEMBERS, MAX_OPERATIONS, MAX_VALUES
from gateway.scim.models import DEFAULT_SCHEMAS, parse_request, parse_response
from gateway.scim.patch import normalise_patch
from vendors.base import Kind

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CREATE = Context.RESOURCE_CREATION_REQUEST


def _user(**attributes: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": "worst@example.com", **attributes}


def _typed(count: int, prefix: str) -> list[dict[str, Any]]:
    return [{"value": f"{prefix}{i}@example.com", "type": "work", "primary": False} for i in range(count)]


def _member(i: int) -> dict[str, str]:
    return {"value": f"00000000-0000-0000-0000-{i:012d}", "type": "User"}


def _patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


_PER_LIST = (MAX_BODY_VALUES - 8) // 4 // 4  # four lists of items of three sub-attributes (4 values an item)
BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "user: 4 typed lists filling the value budget": ("user", _user(
        emails=_typed(_PER_LIST, "e"), phoneNumbers=_typed(_PER_LIST, "p"), entitlements=_typed(_PER_LIST, "n"),
        roles=_typed(_PER_LIST, "r"))),
    "user: emails at the per-attribute cap": ("user", _user(emails=_typed(MAX_VALUES, "e"))),
    "user: unknown names up to the budget (refused by the model)": ("user", _user(
        emails=[{"value": "a", **{f"x{k}": 0 for k in range(4)}} for _ in range(60)],
        **{f"y{k}": 0 for k in range(MAX_BODY_VALUES - 6 * 60 - 10)})),
    "group: MAX_MEMBERS members": ("group", {"schemas": [GROUP], "displayName": "g",
                                            "members": [_member(i) for i in range(MAX_MEMBERS)]}),
    "patch: MAX_OPERATIONS replaces": ("patch-user", _patch(
        *[{"op": "replace", "path": 'emails[type eq "work"].value', "value": f"{i}@x.io"}
          for i in range(MAX_OPERATIONS)])),
    "patch: MAX_OPERATIONS member removals": ("patch-group", _patch(
        {"op": "Remove", "path": "members", "value": [_member(i) for i in range(MAX_OPERATIONS)]})),
    "patch: MAX_MEMBERS member additions": ("patch-group", _patch(
        {"op": "Add", "path": "members", "value": [_member(i) for i in range(MAX_MEMBERS)]})),
    "synthesised patch: MAX_OPERATIONS removals from 1000 members": ("apply-group", _patch(
        {"op": "Remove", "path": "members", "value": [_member(i) for i in range(MAX_OPERATIONS)]})),
    "search: 50-term filter": ("search", {"filter": " or ".join(f'userName eq "u{i}"' for i in range(50))}),
    "refused: 30,000 emails": ("user", _user(emails=[{"value": f"{i}@e.io"} for i in range(30_000)])),
    "refused: 90,000 unknown names (1 MiB)": ("user", _user(**{f"k{i}": 0 for i in range(90_000)})),
}  # fmt: skip


def _runner(kind: str) -> Callable[[Any], object]:
    users, groups = DEFAULT_SCHEMAS[Kind.USER], DEFAULT_SCHEMAS[Kind.GROUP]
    if kind == "user":
        return lambda body: parse_request(users, body, CREATE)
    if kind == "group":
        return lambda body: parse_request(groups, body, CREATE)
    if kind == "patch-user":
        return lambda body: normalise_patch(users, body, "u1")
    if kind == "patch-group":
        return lambda body: normalise_patch(groups, body, "g1")
    if kind == "apply-group":
        return lambda body: _apply_to_large_group(normalise_patch(groups, body, "g1"))
    return lambda body: query.from_search_body(users, body, 100)


def _apply_to_large_group(patch: Any) -> None:
    """A synthesised PATCH (a vendor without native group PATCH): the vendor's group, then the patch applied."""
    members = [_member(i) for i in range(1000)]
    patch.apply(parse_response(DEFAULT_SCHEMAS[Kind.GROUP], {"schemas": [GROUP], "id": "g1", "displayName": "g",
                                                             "members": members}))  # fmt: skip


def measure(raw: bytes, run: Callable[[Any], object], repeat: int) -> tuple[float, str]:
    """The least CPU seconds of `repeat` runs of parse-and-validate, and the outcome."""
    best, outcome = float("inf"), ""
    for _ in range(repeat):
        started = time.process_time()
        try:
            run(orjson.loads(raw))
            outcome = "accepted"
        except SCIMException as exc:
            outcome = f"{exc.status} {exc.scim_type or ''}".strip()
        best = min(best, time.process_time() - started)
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per body; the least CPU time counts")
    args = parser.parse_args()
    print("| body | bytes | outcome | CPU ms |\n|---|---:|---|---:|")
    for name, (kind, body) in BODIES.items():
        raw = orjson.dumps(body)
        seconds, outcome = measure(raw, _runner(kind), args.repeat)
        print(f"| {name} | {len(raw)} | {outcome} | {seconds * 1000:.2f} |")


if __name__ == "__main__":
    main()
