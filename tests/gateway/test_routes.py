import pytest
from scim2_models import SCIMException

from gateway.scim.routes import Target, route, route_segments
from vendors.base import Kind


@pytest.mark.parametrize(
    ("method", "rest", "expected"),
    [
        ("GET", "/Users", Target("list", Kind.USER)),
        ("POST", "/Users", Target("create", Kind.USER)),
        ("POST", "/Groups/.search", Target("search", Kind.GROUP)),
        ("PATCH", "/Groups/g-1", Target("patch", Kind.GROUP, "g-1")),
        ("DELETE", "/Users/u%201", Target("delete", Kind.USER, "u%201")),
        ("GET", "/ServiceProviderConfig", Target("config")),
        (
            "GET",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            Target("schemas", ident="urn:ietf:params:scim:schemas:core:2.0:User"),
        ),
        ("GET", "/ResourceTypes", Target("resource_types")),
    ],
)
def test_routes(method, rest, expected):
    assert route(method, rest) == expected


@pytest.mark.parametrize(
    ("method", "rest", "status"),
    [
        ("GET", "/Nope", 404),
        ("GET", "/Users/a/b", 404),
        ("GET", "/Users/..", 404),
        ("GET", "/Users/a\x00b", 404),
        ("GET", "/Users/" + "x" * 300, 404),
        ("PUT", "/Users", 405),
        ("GET", "/Users/.search", 405),
        ("POST", "/ServiceProviderConfig", 405),
        ("POST", "/Bulk", 501),
        ("", "", 404),
    ],
)
def test_refused_routes(method, rest, status):
    with pytest.raises(SCIMException) as caught:
        route(method, rest)
    assert caught.value.status == status


def _outcome(method: str, rest: str, router) -> object:
    try:
        return router(method, rest)
    except SCIMException as exc:
        return exc.status


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "POST"])
@pytest.mark.parametrize(
    "rest",
    [
        "/Users/2819c223-7f76-453a-919d-413861904646", "/Groups/g-1", "/Users/u%201", "/Users/..", "/Users/.",
        "/Users/...", "/Users/a.scim", "/Users/.scim", "/Users/a.scim.scim", "/Users/a\\b", "/Users/a\x00b",
        "/Users/a\x7f", "/Users/a\n", "/Users/" + "x" * 256, "/Users/" + "x" * 257, "/Users/a:b", "/Users/é",
        "/Users/https:", "/Users/.search", "/Users/a/", "//Users//a", "/users/a", "/Users", "/Users/",
    ],
)  # fmt: skip
def test_the_item_fast_path_agrees_with_the_segment_walk(method: str, rest: str) -> None:
    assert _outcome(method, rest, route) == _outcome(method, rest, route_segments)
