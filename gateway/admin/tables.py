"""What the operator CLI prints: plain-text tables on stdout, progress on stderr (only on a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

_MAX_CELL = 60


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces, a rule under the header; long cells are cut."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(header), *(len(row[index]) for row in cells)]) for index, header in enumerate(headers)]
    lines = ["  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value) or "-"
    text = " ".join(str(value).split())
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


class Progress:
    """One self-rewriting status line on stderr while a long run goes on; silent when stderr is not a terminal."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._width = 0

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def done(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


class AppsProgress:
    """`n/total apps answered` for the concurrent calls (people find, offboard)."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.total, self.answered = progress, total, 0

    def __call__(self, app: str) -> None:
        self.answered += 1
        self.progress.show(f"{self.answered}/{self.total} apps answered (last: {app})")


class RowsProgress:
    """`app: n accounts` while an access review walks the apps."""

    def __init__(self, progress: Progress) -> None:
        self.progress, self.total = progress, 0

    def __call__(self, app: str, seen: int) -> None:
        self.progress.show(f"{app}: {seen} accounts listed")
