"""The CLI's tables and its progress line (stderr, only on a terminal)."""

from __future__ import annotations

import io

from gateway.admin.tables import AppsProgress, Progress, table


def test_tables_and_progress() -> None:
    text = table(["app", "active", "roles"], [["orca", True, ["Admin", "Viewer"]], ["spekit", None, []]])
    assert text.splitlines() == [
        "app     active  roles",
        "------  ------  ------------",
        "orca    yes     Admin,Viewer",
        "spekit  -       -",
    ]
    stream = io.StringIO()
    progress = Progress(stream, enabled=True)
    counter = AppsProgress(progress, 2)
    counter("orca")
    counter("spekit")
    progress.done()
    assert stream.getvalue().startswith("\r1/2 apps answered (last: orca)\r2/2 apps answered (last: spekit)")
    assert stream.getvalue().endswith("\r")
    quiet = io.StringIO()
    Progress(quiet).show("not a terminal")
    assert quiet.getvalue() == ""
