"""The console adapter as a real subprocess: `sendbot run` with piped stdin, and `sendbot ask`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.adapters.console import render_reply
from bot.model import Card, CardField, Reply
from tests.support.processes import SENDBOT, clean_env

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`


def write_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n'
        f'[console]\nattachments_dir = "{tmp_path / "att"}"\n'
        "[feeds]\nenabled = false\n"
    )
    return cfg


def sendbot(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SENDBOT, *args], input=stdin, capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=60
    )


def test_run_with_no_config_answers_help_and_exits_at_end_of_input(tmp_path: Path) -> None:
    # No config file at all, as a newcomer has: defaults, database created under ./data.
    proc = subprocess.run(
        [SENDBOT, "run"],
        input="!help\n\nhello there\n!help help\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "SEND forum bot: commands" in proc.stdout
    assert "Usage:" in proc.stdout and "!help [topic…]" in proc.stdout
    assert (tmp_path / "data" / "sendbot.sqlite3").exists()
    assert "Traceback" not in proc.stderr


def test_run_as_member_is_refused_moderator_help_section(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    proc = sendbot(tmp_path, "run", "--config", str(cfg), "--as-member", stdin="!help\n!nosuchthing\n")
    assert proc.returncode == 0
    assert "For moderators" not in proc.stdout
    assert "I don't know the command `!nosuchthing`" not in proc.stdout  # plain text on the console
    assert "I don't know the command !nosuchthing" in proc.stdout


def test_ask_prints_reply_and_exit_codes(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    ok = sendbot(tmp_path, "ask", "--config", str(cfg), "!help")
    assert ok.returncode == 0 and "SEND forum bot: commands" in ok.stdout
    without_prefix = sendbot(tmp_path, "ask", "--config", str(cfg), "help", "help")
    assert without_prefix.returncode == 0 and "Usage:" in without_prefix.stdout
    unknown = sendbot(tmp_path, "ask", "--config", str(cfg), "!frobnicate")
    assert unknown.returncode == 2
    empty = sendbot(tmp_path, "ask", "--config", str(cfg))
    assert empty.returncode == 2 and "give the command text" in empty.stderr


def test_bad_config_gives_messages_not_a_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[bot]\nprefix = "abc"\n')
    proc = sendbot(tmp_path, "run", "--config", str(cfg), stdin="!help\n")
    assert proc.returncode == 1
    assert "bot.prefix" in proc.stderr and "Traceback" not in proc.stderr


def test_render_reply_as_plain_text() -> None:
    reply = Reply(
        text="See **this**",
        card=Card(
            title="Title",
            body="A [link](https://example.org/a) here",
            fields=(CardField("Source", "[CFA 2014 s.36](https://www.legislation.gov.uk/ukpga/2014/6/section/36)"),),
            url="https://example.org",
            footer="Not legal advice.",
        ),
        ephemeral=True,
    )
    text = render_reply(reply)
    assert text.startswith("(only you can see this)\nSee this\n┌ Title")
    assert "A link (https://example.org/a) here" in text
    assert "CFA 2014 s.36 (https://www.legislation.gov.uk/ukpga/2014/6/section/36)" in text
    assert "└ Not legal advice." in text


@pytest.mark.parametrize("name", ["../../etc/passwd", "deadlines.ics", ""])
async def test_attachments_are_saved_inside_the_folder(tmp_path: Path, name: str) -> None:
    from bot.adapters.console import ConsoleAdapter
    from bot.model import Attachment
    from tests.support.harness import Harness

    h = await Harness.create(tmp_path)
    try:
        adapter = ConsoleAdapter(h.core)
        first = adapter.save_attachment(Attachment(name, b"x"))
        second = adapter.save_attachment(Attachment(name, b"y"))
        folder = (tmp_path / "attachments").resolve()
        assert first.resolve().parent == folder and second.resolve().parent == folder
        assert first != second and first.read_bytes() == b"x"
    finally:
        await h.close()


def test_field_names_ending_in_punctuation_get_no_extra_colon() -> None:
    card = Card(title="T", fields=(CardField("Has the law changed?", "No."), CardField("Sources", "x")))
    text = render_reply(Reply(card=card))
    assert "│ Has the law changed?\n" in text and "?:" not in text
    assert "│ Sources:\n" in text
