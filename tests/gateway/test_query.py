import pytest
from scim2_models import SCIMException

from gateway.scim.models import DEFAULT_SCHEMAS
from gateway.scim.query import from_query_params, from_search_body
from vendors.base import Kind


def test_query_params_are_parsed_and_count_is_capped_at_max_results():
    query = from_query_params(
        DEFAULT_SCHEMAS[Kind.USER], {"filter": 'userName eq "ada"', "startIndex": "3", "count": "5000"}, 1000
    )
    assert (str(query.filter), query.start_index, query.count) == ('userName eq "ada"', 3, 1000)


def test_start_index_below_one_means_one_and_negative_count_means_zero():
    query = from_query_params(DEFAULT_SCHEMAS[Kind.USER], {"startIndex": "0", "count": "-4"}, 100)
    assert (query.start_index, query.count) == (1, 0)


def test_search_body_accepts_attribute_lists():
    query = from_search_body(
        DEFAULT_SCHEMAS[Kind.GROUP], {"filter": 'displayName eq "x"', "excludedAttributes": ["members"]}, 100
    )
    assert query.excluded_attributes == ("members",)


@pytest.mark.parametrize(
    ("params", "scim_type"),
    [
        ({"filter": "userName eq"}, "invalidFilter"),
        ({"filter": "nosuchattribute eq 1"}, "invalidFilter"),
        ({"filter": "userName eq " + '"x" or userName eq ' * 400 + '"y"'}, "invalidFilter"),
        ({"count": "many"}, "invalidValue"),
    ],
)
def test_bad_queries_are_400_with_scim_type(params, scim_type):
    with pytest.raises(SCIMException) as caught:
        from_query_params(DEFAULT_SCHEMAS[Kind.USER], params, 100)
    assert (caught.value.status, caught.value.scim_type) == (400, scim_type)
