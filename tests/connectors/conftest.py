from collections.abc import Iterator

import pytest

from tests.connectors.hosting import close_host


@pytest.fixture(scope="session", autouse=True)
def _simulator_host() -> Iterator[None]:
    """Stop the shared simulator servers when the session ends."""
    yield
    close_host()
