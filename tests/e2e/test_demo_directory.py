"""The demo's directory: SQLite in its data directory, keys generated there once (0600) and kept (issue 17 item 8)."""

from __future__ import annotations

import stat

from pydantic import SecretStr

from gateway.demo import DEMO_DATABASE, DEMO_KEY_FILES, start_demo
from gateway.directory.keys import decode_key
from gateway.directory.records import Origin, State


async def test_orca_and_delinea_keep_their_directory_in_the_data_dir_with_keys_made_once(tmp_path):
    data_dir = tmp_path / "demo"
    async with start_demo(data_dir=data_dir) as demo:
        runtime = demo.app.state.runtime
        assert runtime.directory is not None and runtime.directory.backend == "sqlite"
        assert await runtime.directory.availability.ready()
        modes = {(app.tenant, app.name): app.directory_mode for app in runtime.apps()}
        assert modes[("acme", "orca")] == modes[("acme", "delinea")] == "full"
        assert (data_dir / DEMO_DATABASE).is_file(), "the schema was migrated into the data directory"
        keys = {name: (data_dir / name).read_text() for name in DEMO_KEY_FILES}
        for name in DEMO_KEY_FILES:
            assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name
            assert len(decode_key(SecretStr(keys[name]))) == 32
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert keys["directory-key"] != keys["directory-index-key"]
        encryption = demo.config.directory.encryption
        assert [key.get_secret_value() for key in encryption.keys] == [keys["directory-key"].strip()]
        orca = runtime.tenants["acme"].apps["orca"].resources
        await orca.insert("User", State("left-over"), vendor_id="v-1", origin=Origin.GATEWAY)
    async with start_demo(data_dir=data_dir) as demo:
        assert {name: (data_dir / name).read_text() for name in DEMO_KEY_FILES} == keys, "keys kept across runs"
        orca = demo.app.state.runtime.tenants["acme"].apps["orca"].resources
        # The simulators start fresh each run, so does the database: no link to a vendor id reused since.
        assert await orca.by_user_name("left-over") is None
