"""`!settings` through the console adapter as a real `sendbot run` subprocess, typed as a
volunteer would (a city for a time zone, a phone's quotes, a name in two words): each answer
is plain and readable, nothing is a traceback, and the last `!settings` shows what stuck."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.processes import run_sendbot

pytestmark = pytest.mark.slow  # a real subprocess: left out of `make test-fast`

TYPED = [
    "!settings set timezone London",
    "!settings set timezone uk",
    "!settings set show reporter \u201cyes\u201d",
    "!settings set moderator-channel here",
    "!settings reset moderators-channel",
    "!settings",
]


def test_settings_typed_as_volunteers_type_them(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "bot.sqlite3"}"\n[feeds]\nenabled = false\n')
    done = run_sendbot("run", "--config", str(config), cwd=tmp_path, input="\n".join(TYPED) + "\n")
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in out + done.stderr
    assert "Done. timezone is now Europe/London for this forum." in out
    assert "I don't know the time zone uk. Did you mean Europe/London? Nothing changed." in out
    assert "Done. show-reporter is now yes for this forum." in out
    assert "There is no setting called moderator-channel. Did you mean moderators-channel?" in out
    assert "moderators-channel was not set for this forum." in out
    shown = out[out.rindex("Settings for this forum") :]
    assert "Europe/London (this forum)" in shown and "yes (this forum)" in shown
    # Short lines a phone shows without sideways scrolling: each value on its own line.
    assert all(len(line) <= 200 for line in shown.splitlines()), shown
