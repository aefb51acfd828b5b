"""A directory whose database cannot be reached fails with DirectoryUnavailable, never leaking the URL."""

from __future__ import annotations

import pytest

from gateway.directory.errors import DirectoryUnavailable
from gateway.directory.records import Origin, State
from gateway.directory.store import build_directory, open_directory
from tests.directory.conftest import directory_config
from tests.processes import free_port


@pytest.fixture(params=["sqlite", "postgresql"])
def unreachable_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'missing-directory' / 'directory.db'}"  # no such directory
    return f"postgresql+asyncpg://gateway:hunter2-secret@127.0.0.1:{free_port()}/directory"


# aiosqlite answers a failed connect by stopping its worker thread with a future nobody awaits; when the
# test's loop closes first, the thread's late callback is reported as an unhandled thread exception.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_every_operation_raises_directory_unavailable(unreachable_url, keys):
    directory = build_directory(directory_config(unreachable_url, [keys["old"]], keys["index"], pool_timeout=1))
    orca = directory.resources("acme", "orca")
    try:
        for call in (
            directory.check(),
            orca.by_user_name("alice"),
            orca.insert("User", State("alice"), vendor_id="v", origin=Origin.VENDOR),
        ):
            with pytest.raises(DirectoryUnavailable) as caught:
                await call
            assert "the directory database is unavailable" in str(caught.value) and "hunter2" not in str(caught.value)
    finally:
        await directory.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_start_up_checks_without_migrating_also_fail_clearly(unreachable_url, keys):
    config = directory_config(unreachable_url, [keys["old"]], keys["index"], migrate_on_start=False)
    with pytest.raises(DirectoryUnavailable, match="the directory database is unavailable"):
        await open_directory(config)
