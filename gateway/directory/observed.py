"""Every public operation of a directory repository: gated while the directory cannot serve, and observed
(its duration and outcome go to the metrics, named after the method)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from gateway.directory.errors import error_label

#: Told of every operation: its name, its seconds, and None or the error's label (errors.error_label).
Observe = Callable[[str, float, str | None], None]
#: Called before every operation; raises DirectoryUnavailable while the directory cannot serve (its schema
#: is not yet checked or migrated, see gateway/directory/availability.py).
Gate = Callable[[], None]
_P = ParamSpec("_P")
_R = TypeVar("_R")
_O = TypeVar("_O", bound="Observed")


class Observed(Protocol):
    """A repository whose operations are gated and observed."""

    gate: Gate | None
    observe: Observe | None


def operation(
    method: Callable[Concatenate[_O, _P], Coroutine[Any, Any, _R]],
) -> Callable[Concatenate[_O, _P], Coroutine[Any, Any, _R]]:
    """A public operation: passes the gate, then its duration and outcome go to `observe` (named after the method)."""
    name = method.__name__

    @functools.wraps(method)
    async def observed(self: _O, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        started = time.perf_counter()
        try:
            if self.gate is not None:
                self.gate()
            result = await method(self, *args, **kwargs)
        except BaseException as exc:
            if self.observe is not None:
                self.observe(name, time.perf_counter() - started, error_label(exc))
            raise
        if self.observe is not None:
            self.observe(name, time.perf_counter() - started, None)
        return result

    return observed
