import pytest
from scim2_models import SCIMException

from gateway.scim.routes import Target, route
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
        ("GET", "/Users/a.scim", Target("get", Kind.USER, "a")),
        ("GET", "//Users//a/", Target("get", Kind.USER, "a")),
        ("PUT", "/Users/...", Target("replace", Kind.USER, "...")),
    ],
)
def test_routes(method: str, rest: str, expected: Target) -> None:
    assert route(method, rest) == expected


@pytest.mark.parametrize(
    ("method", "rest", "status"),
    [
        ("GET", "/Nope", 404),
        ("GET", "/Users/a/b", 404),
        ("GET", "/Users/..", 404),
        ("GET", "/Users/a\x00b", 404),
        ("GET", "/Users/" + "x" * 300, 404),
        ("GET", "/Users/a\\b", 404),
        ("GET", "/users/a", 404),
        ("POST", "/Users/a", 405),
        ("PUT", "/Users", 405),
        ("GET", "/Users/.search", 405),
        ("POST", "/ServiceProviderConfig", 405),
        ("POST", "/Bulk", 501),
        ("", "", 404),
    ],
)
def test_refused_routes(method: str, rest: str, status: int) -> None:
    with pytest.raises(SCIMException) as caught:
        route(method, rest)
    assert caught.value.status == status
