"""A forkserver multiprocessing context whose children skip re-importing the parent's main.

multiprocessing has every child it starts import the parent's `__main__` again (as
`__mp_main__`), so that functions defined there can be unpickled. The parser's jobs are all
functions in feeds.*, so its workers need none of that: for `sendbot run` the re-import was
bot.cli and everything it loads (config, pydantic, the ops commands), for
`python -m bench.feeds` the whole bot. That was about 13 MB of each worker's 31 MB (PSS).

Only the preparation data differs from the standard library's forkserver Popen (the lines
of its `_launch` are otherwise the same): tests/feeds/test_parse_workers.py checks that a
worker has not loaded the test runner's main module, and that workers still start and die
with the bot.
"""

from __future__ import annotations

import io
import os
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn, util
from typing import Any

_MAIN_KEYS = ("init_main_from_name", "init_main_from_path")


class _Popen(popen_forkserver.Popen):
    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        for key in _MAIN_KEYS:
            prep_data.pop(key, None)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        # As the standard library: a duplicate of the data pipe's write end is the sentinel
        # by which the child sees its parent go.
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))  # type: ignore[attr-defined]
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        return _Popen(process_obj)


class LeanForkServerContext(context.ForkServerContext):
    """multiprocessing.get_context("forkserver"), but children do not import `__main__`."""

    Process = _Process


def lean_forkserver() -> LeanForkServerContext:
    return LeanForkServerContext()
